//! Coalescing of reactions per tick. A quiet tick is sent as the seed's
//! individual events; a busy one as a single `reaction.burst` with counts, so
//! the cost of broadcasting reactions is bounded by ticks, not by reactions.

use std::collections::BTreeMap;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use super::reaction_writer::{self, ReactionCommitter};
use super::Member;
use crate::chat::{Reaction, RoomEvent};
use crate::config::ServeConfig;
use crate::store::reactions::NewReaction;
use crate::store::stamps::Stamp;
use crate::tenant::SchemaName;

/// A room's reactions: rows on their way to storage, and the current tick.
pub(crate) struct Reactions {
    window: ReactionWindow,
    /// When the current tick ends (meaningful while the window is not empty).
    deadline: Instant,
    rows: mpsc::Sender<NewReaction>,
    tick: std::time::Duration,
    tick_ms: u64,
    threshold: usize,
}

/// The room's reaction queue is full: the reaction was not accepted.
#[derive(Debug)]
pub(crate) struct Overloaded;

impl Reactions {
    /// Starts the room's reaction writer on `writers` (drained at shutdown).
    pub fn start(
        committer: ReactionCommitter,
        schema: SchemaName,
        config: &ServeConfig,
        writers: &TaskTracker,
    ) -> Self {
        let (rows, rx) = mpsc::channel(reaction_writer::QUEUE);
        writers.spawn(reaction_writer::run(
            committer,
            schema,
            config.reaction_flush(),
            rx,
        ));
        Reactions {
            window: ReactionWindow::default(),
            deadline: Instant::now(),
            rows,
            tick: config.reaction_tick(),
            tick_ms: config.reaction_tick_ms,
            threshold: config.reaction_burst_threshold,
        }
    }

    /// Accepts a reaction of `member` in `stream_id`: queues its row, and
    /// adds it to the current tick (starting one if none runs).
    pub fn accept(
        &mut self,
        stream_id: i32,
        member: &Member,
        stamp: &Stamp,
    ) -> Result<(), Overloaded> {
        let now = time::OffsetDateTime::now_utc();
        let row = NewReaction {
            stream_id,
            user_id: member.user_id,
            stamp_id: stamp.id,
            created_at: time::PrimitiveDateTime::new(now.date(), now.time()),
        };
        self.rows.try_send(row).map_err(|_| Overloaded)?;
        let reaction = Reaction {
            stamp_id: stamp.id,
            stamp_name: stamp.name.clone(),
            stamp_image_url: stamp.image_url.clone(),
            username: member.username.clone(),
        };
        if self.window.is_empty() {
            self.deadline = Instant::now() + self.tick;
        }
        self.window.push(reaction, self.threshold);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// When the current tick ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Ends the tick: its reactions, one by one or as a burst.
    pub fn drain(&mut self) -> Vec<RoomEvent> {
        self.window.drain(self.threshold, self.tick_ms)
    }
}

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
