//! Coalescing of reactions per tick. A quiet tick is sent as the seed's
//! individual events; a busy one as a single `reaction.burst` with counts, so
//! the cost of broadcasting reactions is bounded by ticks, not by reactions.

use std::collections::BTreeMap;

use super::event::RoomEvent;
use crate::chat::Reaction;

/// The reactions collected during the current tick.
#[derive(Debug, Default)]
pub struct ReactionWindow {
    /// Kept verbatim while the tick is quiet enough to send them one by one.
    individual: Vec<Reaction>,
    counts: BTreeMap<i32, u32>,
    total: usize,
}

impl ReactionWindow {
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Adds one reaction; `threshold` is the most sent individually.
    pub fn push(&mut self, reaction: Reaction, threshold: usize) {
        *self.counts.entry(reaction.stamp_id).or_insert(0) += 1;
        self.total += 1;
        if self.total <= threshold {
            self.individual.push(reaction);
        } else if !self.individual.is_empty() {
            // Past the threshold only the counts matter.
            self.individual = Vec::new();
        }
    }

    /// Empties the window into the events to publish.
    pub fn drain(&mut self, threshold: usize, window_ms: u64) -> Vec<RoomEvent> {
        let window = std::mem::take(self);
        if window.total <= threshold {
            window
                .individual
                .into_iter()
                .map(RoomEvent::Reaction)
                .collect()
        } else {
            vec![RoomEvent::ReactionBurst {
                counts: window.counts.into_iter().collect(),
                window_ms,
            }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(stamp_id: i32) -> Reaction {
        Reaction {
            stamp_id,
            stamp_name: format!(":s{stamp_id}:"),
            stamp_image_url: String::new(),
            username: "u".into(),
        }
    }

    #[test]
    fn quiet_ticks_stay_individual() {
        let mut w = ReactionWindow::default();
        for id in [1, 2, 1] {
            w.push(r(id), 3);
        }
        let events = w.drain(3, 150);
        assert_eq!(
            events,
            vec![
                RoomEvent::Reaction(r(1)),
                RoomEvent::Reaction(r(2)),
                RoomEvent::Reaction(r(1))
            ]
        );
        assert!(w.is_empty());
    }

    #[test]
    fn busy_ticks_become_one_burst_with_exact_counts() {
        let mut w = ReactionWindow::default();
        for i in 0..100 {
            w.push(r(if i % 4 == 0 { 4 } else { 1 }), 20);
        }
        let events = w.drain(20, 150);
        assert_eq!(
            events,
            vec![RoomEvent::ReactionBurst {
                counts: vec![(1, 75), (4, 25)],
                window_ms: 150
            }]
        );
    }
}
