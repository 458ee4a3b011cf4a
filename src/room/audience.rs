//! Who is in a room on this node: sockets per user (join and leave are
//! announced once per user, not per tab) and who chatted lately.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// A user counts as a chatter for this long after their last message.
const CHATTER_WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
pub(crate) struct Audience {
    sockets_per_user: HashMap<i32, usize>,
    chatted: HashMap<i32, Instant>,
}

impl Audience {
    /// A socket of `user_id` joined; true if it is the user's first.
    pub fn arrive(&mut self, user_id: i32) -> bool {
        let count = self.sockets_per_user.entry(user_id).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// A socket of `user_id` left; true if it was the user's last.
    pub fn depart(&mut self, user_id: i32) -> bool {
        match self.sockets_per_user.get_mut(&user_id) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            _ => {
                self.sockets_per_user.remove(&user_id);
                true
            }
        }
    }

    pub fn chatted(&mut self, user_id: i32, at: Instant) {
        self.chatted.insert(user_id, at);
    }

    /// Distinct users present, and those who chatted within the window.
    pub fn counts(&mut self, now: Instant) -> (usize, usize) {
        self.chatted
            .retain(|_, at| now.saturating_duration_since(*at) < CHATTER_WINDOW);
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
}
