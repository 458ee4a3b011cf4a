//! Who is in a room on this node: sockets per user (join and leave are
//! announced once per user, not per tab) and who chatted lately.
//!
//! The distinct users are mirrored into a [`Roster`] the presence task reads
//! (it merges every node's roster into an audience counted per user). The
//! mirror changes only when a user's first socket arrives or last departs,
//! or the chatters change, so the actor's cost is a short uncontended lock
//! on those events, never a copy.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// A user counts as a chatter for this long after their last message.
const CHATTER_WINDOW: Duration = Duration::from_secs(300);

/// The room's distinct users on this node, shared with the presence task.
/// Anonymous readers (negative ids, one per socket, numbered per node) are
/// only counted: their ids would collide with another node's.
#[derive(Debug, Default)]
pub struct Roster {
    users: HashSet<i32>,
    anonymous: usize,
    chatters: HashSet<i32>,
    /// Bumped on every change, so an unchanged roster is not copied again.
    version: u64,
}

/// A copy of a [`Roster`] at one version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterCopy {
    pub version: u64,
    /// Signed-in users with a socket here.
    pub users: Vec<i32>,
    /// Anonymous reader sockets here.
    pub anonymous: usize,
    /// Users who chatted here within the chatter window.
    pub chatters: Vec<i32>,
}

/// A [`Roster`] behind its lock, shared by a room's actor and the presence task.
#[derive(Debug, Default, Clone)]
pub struct SharedRoster(Arc<Mutex<Roster>>);

impl SharedRoster {
    fn lock(&self) -> MutexGuard<'_, Roster> {
        // A panic elsewhere while holding it leaves plain sets, still usable.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A roster of these members (benchmarks and tests build rooms without
    /// sockets this way); replaces what it had, as a new version.
    pub fn replace(&self, users: &[i32], anonymous: usize, chatters: &[i32]) {
        let mut roster = self.lock();
        roster.users = users.iter().copied().collect();
        roster.anonymous = anonymous;
        roster.chatters = chatters.iter().copied().collect();
        roster.version += 1;
    }

    /// The roster, unless it is still at version `seen`.
    pub fn copy_if_changed(&self, seen: Option<u64>) -> Option<RosterCopy> {
        let roster = self.lock();
        if seen == Some(roster.version) {
            return None;
        }
        Some(RosterCopy {
            version: roster.version,
            users: roster.users.iter().copied().collect(),
            anonymous: roster.anonymous,
            chatters: roster.chatters.iter().copied().collect(),
        })
    }
}

#[derive(Default)]
pub(crate) struct Audience {
    sockets_per_user: HashMap<i32, usize>,
    chatted: HashMap<i32, Instant>,
    roster: SharedRoster,
}

impl Audience {
    pub fn new(roster: SharedRoster) -> Self {
        Audience {
            roster,
            ..Audience::default()
        }
    }

    /// A socket of `user_id` joined; true if it is the user's first.
    pub fn arrive(&mut self, user_id: i32) -> bool {
        let count = self.sockets_per_user.entry(user_id).or_insert(0);
        *count += 1;
        let first = *count == 1;
        if first {
            let mut roster = self.roster.lock();
            if user_id < 0 {
                roster.anonymous += 1;
            } else {
                roster.users.insert(user_id);
            }
            roster.version += 1;
        }
        first
    }

    /// A socket of `user_id` left; true if it was the user's last.
    pub fn depart(&mut self, user_id: i32) -> bool {
        match self.sockets_per_user.get_mut(&user_id) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            _ => {
                if self.sockets_per_user.remove(&user_id).is_some() {
                    let mut roster = self.roster.lock();
                    if user_id < 0 {
                        roster.anonymous = roster.anonymous.saturating_sub(1);
                    } else {
                        roster.users.remove(&user_id);
                    }
                    roster.version += 1;
                }
                true
            }
        }
    }

    pub fn chatted(&mut self, user_id: i32, at: Instant) {
        if self.chatted.insert(user_id, at).is_none() {
            let mut roster = self.roster.lock();
            roster.chatters.insert(user_id);
            roster.version += 1;
        }
    }

    /// Distinct users present, and those who chatted within the window.
    pub fn counts(&mut self, now: Instant) -> (usize, usize) {
        let before = self.chatted.len();
        self.chatted
            .retain(|_, at| now.saturating_duration_since(*at) < CHATTER_WINDOW);
        if self.chatted.len() != before {
            let mut roster = self.roster.lock();
            let chatted = &self.chatted;
            roster.chatters.retain(|id| chatted.contains_key(id));
            roster.version += 1;
        }
        (self.sockets_per_user.len(), self.chatted.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_with_two_tabs_arrives_and_departs_once() {
        let mut a = Audience::default();
        assert!(a.arrive(1));
        assert!(!a.arrive(1));
        assert!(a.arrive(2));
        let now = Instant::now();
        assert_eq!(a.counts(now), (2, 0));
        assert!(!a.depart(1));
        assert!(a.depart(1));
        assert_eq!(a.counts(now), (1, 0));
    }

    #[test]
    fn chatters_expire_after_the_window() {
        let mut a = Audience::default();
        let t0 = Instant::now();
        a.chatted(1, t0);
        a.chatted(2, t0 + Duration::from_secs(200));
        assert_eq!(a.counts(t0 + Duration::from_secs(299)).1, 2);
        assert_eq!(a.counts(t0 + Duration::from_secs(300)).1, 1);
        assert_eq!(a.counts(t0 + Duration::from_secs(500)).1, 0);
    }

    #[test]
    fn the_roster_has_distinct_users_counts_anonymous_readers_and_tracks_chatters() {
        let roster = SharedRoster::default();
        let mut a = Audience::new(roster.clone());
        a.arrive(1);
        a.arrive(1);
        a.arrive(-1);
        a.arrive(-2);
        let t0 = Instant::now();
        a.chatted(1, t0);
        let copy = roster.copy_if_changed(None).expect("first copy");
        assert_eq!((copy.users.as_slice(), copy.anonymous), (&[1][..], 2));
        assert_eq!(copy.chatters, vec![1]);
        assert!(roster.copy_if_changed(Some(copy.version)).is_none());

        a.depart(1); // a second tab remains
        a.chatted(1, t0 + Duration::from_secs(1)); // already a chatter
        assert!(roster.copy_if_changed(Some(copy.version)).is_none());

        a.depart(1);
        a.depart(-1);
        a.counts(t0 + CHATTER_WINDOW + Duration::from_secs(1));
        let later = roster.copy_if_changed(Some(copy.version)).expect("changed");
        assert!(later.users.is_empty() && later.chatters.is_empty());
        assert_eq!(later.anonymous, 1);
    }
}
