//! Resuming a reconnecting socket from its last offset: the events it
//! missed, from the channel layer's log plus what this room broadcast after
//! that log was read, without the lines removed since.

use std::collections::VecDeque;

use axum::extract::ws::Utf8Bytes;

use super::redaction::{self, Mark};
use super::Resume;
use crate::channel_layer::{Replay, Seq};
use crate::chat::RoomEvent;
use crate::wire::{render, with_seq};

/// Logged frames kept for reconnecting sockets.
const CAPACITY: usize = 512;

/// The last logged frames this room broadcast, with their place in the log.
#[derive(Default)]
pub(crate) struct Recent {
    frames: VecDeque<(Seq, Utf8Bytes, Mark)>,
    /// The `client_id`s of the chat lines in `frames`, by sender; for
    /// answering a resend with the line as it was broadcast.
    client_ids: VecDeque<(u64, Box<str>, Box<str>)>,
    last: Option<Seq>,
}

/// A chat line the room broadcast, found by its sender's `client_id`.
#[derive(Debug, PartialEq)]
pub(crate) struct Sent {
    /// The frame as broadcast, with its offset.
    pub frame: Utf8Bytes,
    pub id: i64,
    /// The broadcast frame of the line's latest edit, if it was edited since.
    pub edited: Option<Utf8Bytes>,
    /// Whether a later event in the log removed the line.
    pub removed: bool,
}

impl Recent {
    /// Records the frames one logged event was broadcast as.
    pub fn record(&mut self, seq: &Seq, event: &RoomEvent, frames: &[Utf8Bytes]) {
        // The event's meaning for redaction rides with its first frame.
        let mut mark = Some(Mark::of(event));
        for frame in frames {
            let mark = mark.take().unwrap_or(Mark::Other);
            self.frames.push_back((seq.clone(), frame.clone(), mark));
        }
        while self.frames.len() > CAPACITY {
            self.frames.pop_front();
        }
        if let RoomEvent::Chat(message) = event {
            if let Some(client_id) = &message.client_id {
                let key = (message.username.as_str().into(), client_id.as_str().into());
                self.client_ids.push_back((seq.offset, key.0, key.1));
            }
        }
        let oldest = self.frames.front().map_or(u64::MAX, |(s, _, _)| s.offset);
        while self.client_ids.front().is_some_and(|(o, _, _)| *o < oldest) {
            self.client_ids.pop_front();
        }
        self.last = Some(seq.clone());
    }

    /// The line `username` sent with `client_id`, if it is still here.
    pub fn sent(&self, username: &str, client_id: &str) -> Option<Sent> {
        let (offset, _, _) = self
            .client_ids
            .iter()
            .rev()
            .find(|(_, u, c)| &**u == username && &**c == client_id)?;
        let pos = self
            .frames
            .iter()
            .position(|(s, _, m)| s.offset == *offset && matches!(m, Mark::Chat { .. }))?;
        let (_, frame, mark) = &self.frames[pos];
        let Mark::Chat { id, .. } = mark else {
            return None;
        };
        let removed = redaction::removed(self.frames.iter().map(|(_, _, m)| m)).contains(&pos);
        let edited = self
            .frames
            .iter()
            .skip(pos + 1)
            .rev()
            .find_map(|(_, f, m)| match m {
                Mark::Edit(edit) if edit.id == *id => Some(f.clone()),
                _ => None,
            });
        Some(Sent {
            frame: frame.clone(),
            id: *id,
            edited,
            removed,
        })
    }

    /// Frames that bring a socket up to date from `resume`, or `None` when
    /// the gap is not fully covered (the socket then gets the history).
    /// Lines removed later in the gap are left out (their removal events
    /// are not).
    pub fn recover(&self, resume: &Resume) -> Option<Vec<Utf8Bytes>> {
        let Replay::Events(events) = &resume.replay else {
            return None;
        };
        let mut frames: Vec<(Utf8Bytes, Mark)> = Vec::new();
        let mut last = resume.since;
        for delivery in events {
            let seq = delivery.seq.as_ref()?;
            if *seq.epoch != *resume.epoch || seq.offset != last + 1 {
                return None;
            }
            last = seq.offset;
            let event = RoomEvent::decode(&delivery.payload).ok()?;
            let mut mark = Some(Mark::of(&event));
            for json in render(&event) {
                let frame = Utf8Bytes::from(with_seq(&json, seq.offset, &seq.epoch));
                frames.push((frame, mark.take().unwrap_or(Mark::Other)));
            }
        }
        // Events this room broadcast after the replay was read.
        if let Some(current) = &self.last {
            if current.offset > last {
                if *current.epoch != *resume.epoch {
                    return None;
                }
                let covered = self
                    .frames
                    .front()
                    .is_some_and(|(s, _, _)| s.offset <= last + 1);
                if !covered {
                    return None;
                }
                frames.extend(
                    self.frames
                        .iter()
                        .filter(|(s, _, _)| s.offset > last)
                        .map(|(_, f, m)| (f.clone(), m.clone())),
                );
            }
        }
        let removed = redaction::removed(frames.iter().map(|(_, mark)| mark));
        let edited = redaction::edited(frames.iter().map(|(_, mark)| mark));
        Some(
            frames
                .iter()
                .enumerate()
                .filter(|(pos, _)| !removed.contains(pos))
                .map(|(pos, (frame, _))| {
                    edited
                        .get(&pos)
                        .and_then(|edit| edit.applied_to_frame(frame))
                        .map_or_else(|| frame.clone(), Utf8Bytes::from)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::channel_layer::Delivery;
    use crate::chat::{ChatMessage, MessageType};

    fn seq(offset: u64) -> Seq {
        Seq {
            offset,
            epoch: Arc::from("e1"),
        }
    }

    fn line(id: i64) -> RoomEvent {
        RoomEvent::Chat(ChatMessage {
            id: Some(id),
            username: "alice".into(),
            message: format!("line {id}"),
            message_type: MessageType::Message,
            timestamp: "2026-12-02T12:00:00Z".into(),
            client_id: None,
            badge: None,
            notice: None,
            mentions: Vec::new(),
            reply_to: None,
            edited_at: None,
        })
    }

    fn logged(offset: u64, event: &RoomEvent) -> Delivery {
        Delivery {
            seq: Some(seq(offset)),
            payload: event.encode(),
        }
    }

    fn resume(since: u64, events: Vec<Delivery>) -> Resume {
        Resume {
            epoch: "e1".into(),
            since,
            replay: Replay::Events(events),
        }
    }

    /// Broadcasts `event` as the room would, into `recent`.
    fn broadcast(recent: &mut Recent, offset: u64, event: &RoomEvent) {
        let s = seq(offset);
        let frames: Vec<Utf8Bytes> = render(event)
            .iter()
            .map(|json| Utf8Bytes::from(with_seq(json, s.offset, &s.epoch)))
            .collect();
        recent.record(&s, event, &frames);
    }

    fn summary(frames: &[Utf8Bytes]) -> Vec<(u64, String)> {
        frames
            .iter()
            .map(|f| {
                let v: Value = serde_json::from_str(f).unwrap();
                (
                    v["offset"].as_u64().unwrap(),
                    v["type"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn the_log_then_the_rooms_own_tail() {
        let mut recent = Recent::default();
        for offset in 3..=5 {
            broadcast(&mut recent, offset, &line(offset as i64));
        }
        // The log was read up to 4; the room broadcast 5 since.
        let r = resume(2, vec![logged(3, &line(3)), logged(4, &line(4))]);
        let frames = recent.recover(&r).unwrap();
        assert_eq!(
            summary(&frames),
            vec![
                (3, "chat.message".into()),
                (4, "chat.message".into()),
                (5, "chat.message".into())
            ]
        );
    }

    #[test]
    fn a_gap_or_another_epoch_is_not_recovered() {
        let recent = Recent::default();
        assert!(recent
            .recover(&resume(2, vec![logged(4, &line(4))]))
            .is_none());
        let mut other = resume(2, vec![logged(3, &line(3))]);
        other.epoch = "e0".into();
        assert!(recent.recover(&other).is_none());
        let gap = Resume {
            epoch: "e1".into(),
            since: 2,
            replay: Replay::Gap,
        };
        assert!(recent.recover(&gap).is_none());
        // The room's tail must reach back to the end of the log read.
        let mut recent = Recent::default();
        broadcast(&mut recent, 9, &line(9));
        assert!(recent.recover(&resume(2, vec![])).is_none());
        // Nothing missed at all: recovered, with nothing to send.
        assert_eq!(recent.recover(&resume(9, vec![])), Some(vec![]));
    }

    #[test]
    fn a_line_is_found_by_its_senders_client_id() {
        let mut recent = Recent::default();
        let mut sent = line(7);
        if let RoomEvent::Chat(m) = &mut sent {
            m.client_id = Some("c-1".into());
        }
        broadcast(&mut recent, 3, &sent);
        broadcast(&mut recent, 4, &line(8));
        let found = recent.sent("alice", "c-1").unwrap();
        assert_eq!((found.id, found.removed), (7, false));
        assert_eq!(summary(&[found.frame]), vec![(3, "chat.message".into())]);
        // Another sender's id, or an unknown one, is not found.
        assert!(recent.sent("bob", "c-1").is_none());
        assert!(recent.sent("alice", "c-2").is_none());
        // Edited since: its latest edit comes with it.
        for (offset, text) in [(5, "first fix"), (6, "second fix")] {
            let edit = RoomEvent::Edit(crate::chat::Edit {
                id: 7,
                message: text.into(),
                edited_at: "2026-11-23T12:01:00Z".into(),
                mentions: Vec::new(),
            });
            broadcast(&mut recent, offset, &edit);
        }
        let found = recent.sent("alice", "c-1").unwrap();
        let edited = found.edited.expect("edited");
        assert_eq!(
            summary(std::slice::from_ref(&edited)),
            vec![(6, "chat.edited".into())]
        );
        assert!(edited.as_str().contains("second fix"));
        broadcast(&mut recent, 7, &RoomEvent::Delete { ids: vec![7] });
        assert!(recent.sent("alice", "c-1").unwrap().removed);
        // Once the ring no longer holds the line, neither does the index.
        for offset in 8..(8 + CAPACITY as u64) {
            broadcast(&mut recent, offset, &line(offset as i64));
        }
        assert!(recent.sent("alice", "c-1").is_none());
        assert!(recent.client_ids.is_empty());
    }

    #[test]
    fn deleted_lines_are_not_sent_again_but_their_removal_is() {
        let mut recent = Recent::default();
        broadcast(&mut recent, 3, &line(3));
        broadcast(&mut recent, 4, &RoomEvent::Delete { ids: vec![1] });
        let r = resume(0, vec![logged(1, &line(1)), logged(2, &line(2))]);
        let frames = recent.recover(&r).unwrap();
        assert_eq!(
            summary(&frames),
            vec![
                (2, "chat.message".into()),
                (3, "chat.message".into()),
                (4, "chat.delete".into())
            ]
        );
    }
}
