//! Which chat lines of a replay were removed later in it. A resuming client
//! is sent what it missed from the room's log, which holds each line as it
//! was sent; a line deleted since (delete, clear a user, clear all) must not
//! be sent again. It is dropped from the replay, and the removal event that
//! follows it still is sent, so a client that showed the line removes it.

use std::collections::{HashMap, HashSet};

use crate::chat::MessageType;
use crate::chat::{Edit, RoomEvent};

/// A removal of chat lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    Ids(Vec<i64>),
    /// Every line of this user (notices stay).
    User(String),
    /// Every line (notices stay).
    All,
}

/// What one logged entry means for redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// A stored chat line; notices are moderation and system lines.
    Chat {
        id: i64,
        username: String,
        is_notice: bool,
    },
    Removal(Removal),
    /// A later text for an earlier line.
    Edit(Edit),
    Other,
}

impl Mark {
    /// The mark of a room event.
    pub fn of(event: &RoomEvent) -> Mark {
        match event {
            RoomEvent::Chat(message) => match message.id {
                Some(id) => Mark::Chat {
                    id,
                    username: message.username.clone(),
                    is_notice: message.message_type != MessageType::Message,
                },
                None => Mark::Other,
            },
            RoomEvent::Delete { ids } => Mark::Removal(Removal::Ids(ids.clone())),
            RoomEvent::Edit(edit) => Mark::Edit(edit.clone()),
            RoomEvent::Clear { username: Some(u) } => Mark::Removal(Removal::User(u.clone())),
            RoomEvent::Clear { username: None } => Mark::Removal(Removal::All),
            _ => Mark::Other,
        }
    }
}

/// Positions in `marks` of chat lines that a later removal in `marks` covers.
pub fn removed<'a>(marks: impl IntoIterator<Item = &'a Mark>) -> HashSet<usize> {
    let marks: Vec<&Mark> = marks.into_iter().collect();
    let mut ids: HashSet<i64> = HashSet::new();
    let mut users: HashSet<&str> = HashSet::new();
    let mut all = false;
    let mut out = HashSet::new();
    // Backwards: a removal covers only what came before it.
    for (pos, mark) in marks.iter().enumerate().rev() {
        match mark {
            Mark::Removal(Removal::Ids(list)) => ids.extend(list.iter().copied()),
            Mark::Removal(Removal::User(name)) => {
                users.insert(name.as_str());
            }
            Mark::Removal(Removal::All) => all = true,
            Mark::Chat {
                id,
                username,
                is_notice,
            } => {
                let cleared = !is_notice && (all || users.contains(username.as_str()));
                if cleared || ids.contains(id) {
                    out.insert(pos);
                }
            }
            Mark::Edit(_) | Mark::Other => {}
        }
    }
    out
}

/// For each position in `marks` of a chat line edited later in `marks`,
/// its latest edit: a replay shows the line as it reads now (the edit
/// events still follow, for clients that showed the line before).
pub fn edited<'a>(marks: impl IntoIterator<Item = &'a Mark>) -> HashMap<usize, &'a Edit> {
    let marks: Vec<&Mark> = marks.into_iter().collect();
    let mut latest: HashMap<i64, &Edit> = HashMap::new();
    let mut out = HashMap::new();
    for (pos, mark) in marks.iter().enumerate().rev() {
        match mark {
            Mark::Edit(edit) => {
                latest.entry(edit.id).or_insert(edit);
            }
            Mark::Chat { id, .. } => {
                if let Some(edit) = latest.get(id) {
                    out.insert(pos, *edit);
                }
            }
            Mark::Removal(_) | Mark::Other => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(id: i64, user: &str) -> Mark {
        Mark::Chat {
            id,
            username: user.into(),
            is_notice: false,
        }
    }

    fn notice(id: i64) -> Mark {
        Mark::Chat {
            id,
            username: "mod".into(),
            is_notice: true,
        }
    }

    #[test]
    fn a_delete_removes_only_earlier_lines_with_its_ids() {
        let marks = [
            chat(1, "a"),
            chat(2, "b"),
            Mark::Removal(Removal::Ids(vec![2, 9])),
            Mark::Other,
        ];
        assert_eq!(removed(marks.iter()), HashSet::from([1]));
    }

    #[test]
    fn clears_cover_what_came_before_and_spare_notices() {
        let marks = [
            chat(1, "a"),
            chat(2, "b"),
            notice(3),
            Mark::Removal(Removal::User("a".into())),
            chat(4, "a"),
        ];
        assert_eq!(removed(marks.iter()), HashSet::from([0]));
        let marks = [
            chat(1, "a"),
            notice(2),
            chat(3, "b"),
            Mark::Removal(Removal::All),
            chat(4, "c"),
        ];
        assert_eq!(removed(marks.iter()), HashSet::from([0, 2]));
        // A notice deleted by id goes too.
        let marks = [notice(5), Mark::Removal(Removal::Ids(vec![5]))];
        assert_eq!(removed(marks.iter()), HashSet::from([0]));
    }

    fn edit(id: i64, text: &str) -> Mark {
        Mark::Edit(Edit {
            id,
            message: text.into(),
            edited_at: "2026-12-03T12:00:00Z".into(),
            mentions: Vec::new(),
        })
    }

    #[test]
    fn a_line_reads_as_its_latest_later_edit() {
        let marks = [
            edit(1, "before the line: not its"),
            chat(1, "a"),
            chat(2, "b"),
            edit(1, "second"),
            edit(1, "third"),
        ];
        let edited = edited(marks.iter());
        assert_eq!(edited.len(), 1);
        assert_eq!(edited[&1].message, "third");
    }

    #[test]
    fn nothing_removed_without_removals() {
        let marks = [chat(1, "a"), Mark::Other, chat(2, "a")];
        assert!(removed(marks.iter()).is_empty());
    }
}
