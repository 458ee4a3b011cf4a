//! At most one `notification.new` frame per interval per device. A burst
//! (a user mentioned by a thousand people in a second) becomes one frame
//! with the latest notification and the number of the others it stands for
//! (`coalesced`), like reaction bursts in chat. Pure: the socket's task owns
//! the timer and asks [`Coalesce::due`] when to come back.

use std::time::Duration;

use tokio::time::Instant;

/// One device's pacing of new notifications.
#[derive(Debug)]
pub struct Coalesce<T> {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: Option<(T, u32)>,
}

impl<T> Coalesce<T> {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_sent: None,
            pending: None,
        }
    }

    /// `item` arrived at `now`: it is returned to send at once (with how many
    /// others it stands for, 0) if the interval since the last send has
    /// passed and nothing waits; otherwise it replaces what waits and counts.
    pub fn offer(&mut self, now: Instant, item: T) -> Option<(T, u32)> {
        let free = self.pending.is_none()
            && self
                .last_sent
                .is_none_or(|last| now.duration_since(last) >= self.interval);
        if free {
            self.last_sent = Some(now);
            return Some((item, 0));
        }
        self.hold(item);
        None
    }

    /// Keeps `item` waiting whatever the time (a device not synced yet).
    pub fn hold(&mut self, item: T) {
        self.pending = Some(match self.pending.take() {
            Some((_, count)) => (item, count + 1),
            None => (item, 0),
        });
    }

    /// When what waits may be sent.
    pub fn due(&self) -> Option<Instant> {
        self.pending.as_ref().map(|_| match self.last_sent {
            Some(last) => last + self.interval,
            None => Instant::now(),
        })
    }

    /// What waits, if its time has come at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<(T, u32)> {
        if self.due().is_some_and(|due| due <= now) {
            self.last_sent = Some(now);
            self.pending.take()
        } else {
            None
        }
    }

    /// What waits, whatever the time (a device that just synced).
    pub fn take_now(&mut self, now: Instant) -> Option<(T, u32)> {
        let pending = self.pending.take();
        if pending.is_some() {
            self.last_sent = Some(now);
        }
        pending
    }

    /// Drops what waits (it is covered by a sync about to be sent).
    pub fn clear(&mut self) {
        self.pending = None;
    }

    /// What waits, to update (e.g. its unread count after a read mark).
    pub fn pending_mut(&mut self) -> Option<&mut T> {
        self.pending.as_mut().map(|(item, _)| item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn a_burst_becomes_one_frame_per_interval_with_the_rest_counted() {
        let mut c = Coalesce::new(SECOND);
        let t0 = Instant::now();
        assert_eq!(c.offer(t0, 1), Some((1, 0)), "the first goes at once");
        for n in 2..=1000 {
            assert_eq!(c.offer(t0 + Duration::from_millis(n), n), None);
        }
        assert_eq!(c.due(), Some(t0 + SECOND));
        assert_eq!(c.take_due(t0 + Duration::from_millis(999)), None);
        assert_eq!(
            c.take_due(t0 + SECOND),
            Some((1000, 998)),
            "the latest, standing for the 998 before it"
        );
        assert_eq!(c.due(), None);
        // Quiet for a while: the next goes at once again.
        assert_eq!(c.offer(t0 + SECOND * 3, 1001), Some((1001, 0)));
    }

    #[tokio::test(start_paused = true)]
    async fn one_waiting_item_stands_for_no_other() {
        let mut c = Coalesce::new(SECOND);
        let t0 = Instant::now();
        c.offer(t0, "a");
        assert_eq!(c.offer(t0, "b"), None);
        assert_eq!(c.take_due(t0 + SECOND), Some(("b", 0)));
        assert_eq!(
            c.offer(t0 + SECOND, "c"),
            None,
            "an interval after the last send"
        );
        *c.pending_mut().unwrap() = "c2";
        assert_eq!(c.take_now(t0 + SECOND), Some(("c2", 0)));
        c.offer(t0 + SECOND, "d");
        c.clear();
        assert_eq!(c.due(), None);
    }
}
