//! A room's broadcast ring. The actor appends each frame once; every socket's
//! writer reads it at its own position. One shared ring per room replaces a
//! queue per socket: a broadcast costs one append and one wake per waiting
//! socket instead of one queued copy per socket, and a writer that wakes late
//! takes everything that piled up in one batch (one flush, one syscall).
//!
//! The actor compares each reader's published position with the tail on every
//! append, so it notices a socket that fell too far behind without the socket
//! having to wake up, and closes it as lagging.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::ws::Utf8Bytes;

/// The shared ring of one room.
#[derive(Debug)]
pub struct Fanout {
    frames: RwLock<Ring>,
    /// Sequence number the next frame will get; readers check it without the lock.
    tail: AtomicU64,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Ring {
    /// Sequence number of `slots[0]`.
    first: u64,
    slots: VecDeque<Slot>,
}

#[derive(Debug)]
struct Slot {
    frame: Utf8Bytes,
    /// Chat and moderation must reach every socket; reactions and presence
    /// may be skipped by a socket that is behind.
    required: bool,
}

/// What a broadcast frame is: whether a socket far behind may skip it, and
/// its metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Chat and moderation: never silently skipped; a socket that cannot
    /// take it is closed.
    Chat,
    /// Reactions and presence: ephemeral by nature; a slow socket just
    /// misses some.
    Reaction,
    Presence,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Chat => "chat",
            Kind::Reaction => "reaction",
            Kind::Presence => "presence",
        }
    }
}

/// The ring overwrote frames this socket had not read yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged;

/// A writer's position in the ring, published for the actor, which reads
/// it on every append to spot laggards without waking the socket.
#[derive(Debug, Default)]
pub struct Position(AtomicU64);

impl Position {
    /// Frames appended up to `tail` that this socket has not taken yet.
    pub fn behind(&self, tail: u64) -> u64 {
        tail.saturating_sub(self.0.load(Ordering::Acquire))
    }
}

/// A writer's read position in the ring.
#[derive(Debug)]
pub struct Cursor {
    fanout: Arc<Fanout>,
    position: Arc<Position>,
    next: u64,
}

impl Fanout {
    /// A ring keeping the last `capacity` frames.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Fanout {
            frames: RwLock::new(Ring::default()),
            tail: AtomicU64::new(0),
            capacity: capacity.max(1),
        })
    }

    /// Frames a socket may fall behind before it counts as lagging.
    pub fn capacity(&self) -> u64 {
        self.capacity as u64
    }

    /// Appends one frame; returns the new tail. Waking readers is the
    /// caller's job, so it can check their lag in the same pass.
    pub fn push(&self, frame: Utf8Bytes, kind: Kind) -> u64 {
        let required = kind == Kind::Chat;
        let mut ring = self.frames.write().unwrap_or_else(|e| e.into_inner());
        ring.slots.push_back(Slot { frame, required });
        if ring.slots.len() > self.capacity {
            ring.slots.pop_front();
            ring.first += 1;
        }
        let tail = ring.first + ring.slots.len() as u64;
        // Published under the lock, so a reader that sees this tail finds the slot.
        self.tail.store(tail, Ordering::Release);
        tail
    }

    /// A cursor for a socket joining now: it sees frames appended from here on.
    pub fn cursor(self: &Arc<Self>, position: Arc<Position>) -> Cursor {
        let next = self.tail.load(Ordering::Acquire);
        position.0.store(next, Ordering::Release);
        Cursor {
            fanout: self.clone(),
            position,
            next,
        }
    }
}

impl Cursor {
    /// Whether frames were appended that this cursor has not read.
    pub fn has_unread(&self) -> bool {
        self.fanout.tail.load(Ordering::Acquire) > self.next
    }

    /// Moves up to `max` unread frames into `out` and returns how many
    /// best-effort frames were skipped because this socket is more than half
    /// the ring behind.
    pub fn read(&mut self, out: &mut Vec<Utf8Bytes>, max: usize) -> Result<u64, Lagged> {
        let ring = self.fanout.frames.read().unwrap_or_else(|e| e.into_inner());
        if self.next < ring.first {
            return Err(Lagged);
        }
        let tail = ring.first + ring.slots.len() as u64;
        let shed = tail - self.next > self.fanout.capacity() / 2;
        let mut skipped = 0;
        let start = (self.next - ring.first) as usize;
        for slot in ring.slots.range(start..).take(max) {
            self.next += 1;
            if shed && !slot.required {
                skipped += 1;
            } else {
                out.push(slot.frame.clone());
            }
        }
        drop(ring);
        self.position.0.store(self.next, Ordering::Release);
        Ok(skipped)
    }

    /// [`Cursor::read`] for a connection's writer: the frames it skipped
    /// are counted in `stampede_frames_dropped_total`, so every transport
    /// reports them alike.
    pub fn read_counted(&mut self, out: &mut Vec<Utf8Bytes>, max: usize) -> Result<(), Lagged> {
        let skipped = self.read(out, max)?;
        if skipped > 0 {
            metrics::counter!("stampede_frames_dropped_total", "reason" => "reaction_behind")
                .increment(skipped);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64) -> Utf8Bytes {
        Utf8Bytes::from(n.to_string())
    }

    #[test]
    fn a_cursor_sees_frames_from_its_join_on_in_order() {
        let fanout = Fanout::new(8);
        fanout.push(frame(0), Kind::Chat);
        let reader = Arc::new(Position::default());
        let mut cursor = fanout.cursor(reader.clone());
        for n in 1..=3 {
            fanout.push(frame(n), Kind::Chat);
        }
        assert_eq!(reader.behind(4), 3);
        let mut out = Vec::new();
        assert_eq!(cursor.read(&mut out, 2), Ok(0));
        assert_eq!(out, vec![frame(1), frame(2)]);
        assert_eq!(reader.behind(4), 1);
        out.clear();
        assert_eq!(cursor.read(&mut out, 10), Ok(0));
        assert_eq!(out, vec![frame(3)]);
        assert_eq!(reader.behind(4), 0);
    }

    #[test]
    fn an_overwritten_position_is_lagged() {
        let fanout = Fanout::new(4);
        let mut cursor = fanout.cursor(Arc::default());
        for n in 0..5 {
            fanout.push(frame(n), Kind::Chat);
        }
        assert_eq!(cursor.read(&mut Vec::new(), 10), Err(Lagged));
    }

    #[test]
    fn a_reader_far_behind_skips_best_effort_frames_only() {
        let fanout = Fanout::new(8);
        let mut cursor = fanout.cursor(Arc::default());
        for n in 0..6 {
            fanout.push(
                frame(n),
                if n % 2 == 0 {
                    Kind::Chat
                } else {
                    Kind::Reaction
                },
            );
        }
        let mut out = Vec::new();
        assert_eq!(cursor.read(&mut out, 10), Ok(3));
        assert_eq!(out, vec![frame(0), frame(2), frame(4)]);
    }

    #[test]
    fn has_unread_follows_the_tail() {
        let fanout = Fanout::new(4);
        let mut cursor = fanout.cursor(Arc::default());
        assert!(!cursor.has_unread());
        fanout.push(frame(1), Kind::Chat);
        assert!(cursor.has_unread());
        cursor.read(&mut Vec::new(), 8).unwrap();
        assert!(!cursor.has_unread());
    }
}
