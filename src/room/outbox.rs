//! A socket's mailbox: everything that may wake its writer, behind one waker.
//! The writer waits on a single thing per wake-up — a close request, frames
//! meant for this socket alone (history, replies, errors), or new frames in
//! the room's broadcast ring — instead of polling a channel for each. It
//! also allocates nothing until used, which matters at tens of thousands of
//! idle sockets.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::Poll;

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;

use super::fanout::Cursor;
use super::Close;

/// One socket's mailbox, shared by its writer, its reader and the room.
#[derive(Debug)]
pub struct Outbox {
    waker: AtomicWaker,
    /// The next ring sequence number the writer will read (see [`Cursor`]).
    pub(crate) next: AtomicU64,
    own: Mutex<Own>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Own {
    frames: VecDeque<Utf8Bytes>,
    close: Option<Close>,
}

/// What the writer should do next.
#[derive(Debug)]
pub enum Work {
    /// Send an optional last frame and this close, then stop.
    Close(Close),
    /// Write these frames (the socket's own, in order).
    Own,
    /// Read the broadcast ring.
    Ring,
}

impl Outbox {
    /// A mailbox holding at most `capacity` frames of the socket's own.
    pub fn new(capacity: usize) -> Self {
        Outbox {
            waker: AtomicWaker::new(),
            next: AtomicU64::new(0),
            own: Mutex::new(Own::default()),
            capacity: capacity.max(1),
        }
    }

    fn own(&self) -> std::sync::MutexGuard<'_, Own> {
        self.own.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame for this socket only; false when the mailbox is full
    /// or the socket is being closed.
    pub fn send(&self, frame: Utf8Bytes) -> bool {
        let mut own = self.own();
        if own.close.is_some() || own.frames.len() >= self.capacity {
            return false;
        }
        own.frames.push_back(frame);
        drop(own);
        self.waker.wake();
        true
    }

    /// Asks the writer to close the socket; the first request wins.
    pub fn close(&self, close: Close) {
        let mut own = self.own();
        if own.close.is_none() {
            own.close = Some(close);
        }
        drop(own);
        self.waker.wake();
    }

    /// Broadcast frames appended but not yet taken by this socket's writer.
    pub fn behind(&self, tail: u64) -> u64 {
        tail.saturating_sub(self.next.load(Ordering::Acquire))
    }

    /// Wakes the writer if it is waiting.
    pub fn wake(&self) {
        self.waker.wake();
    }

    /// Waits for work. Own frames go first (history must precede the
    /// broadcasts that followed the join); up to `max` are moved to `out`.
    pub async fn work(&self, feed: &Cursor, out: &mut Vec<Utf8Bytes>, max: usize) -> Work {
        poll_fn(|cx| {
            if let Some(work) = self.ready(feed, out, max) {
                return Poll::Ready(work);
            }
            self.waker.register(cx.waker());
            // Checked again after registering: a send in between would
            // otherwise wake nobody.
            match self.ready(feed, out, max) {
                Some(work) => Poll::Ready(work),
                None => Poll::Pending,
            }
        })
        .await
    }

    fn ready(&self, feed: &Cursor, out: &mut Vec<Utf8Bytes>, max: usize) -> Option<Work> {
        let mut own = self.own();
        if let Some(close) = own.close.take() {
            return Some(Work::Close(close));
        }
        if !own.frames.is_empty() {
            let n = own.frames.len().min(max);
            out.extend(own.frames.drain(..n));
            return Some(Work::Own);
        }
        drop(own);
        feed.has_unread().then_some(Work::Ring)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::room::fanout::Fanout;

    fn frame(s: &'static str) -> Utf8Bytes {
        Utf8Bytes::from_static(s)
    }

    #[tokio::test]
    async fn close_beats_own_frames_which_beat_the_ring() {
        let fanout = Fanout::new(8);
        let outbox = Arc::new(Outbox::new(4));
        let feed = fanout.cursor(outbox.clone());
        fanout.push(frame("ring"), true);
        assert!(outbox.send(frame("own")));
        let mut out = Vec::new();
        assert!(matches!(outbox.work(&feed, &mut out, 8).await, Work::Own));
        assert_eq!(out, vec![frame("own")]);
        assert!(matches!(outbox.work(&feed, &mut out, 8).await, Work::Ring));
        outbox.close(Close {
            code: 4408,
            reason: "x",
            frame: None,
        });
        assert!(matches!(outbox.work(&feed, &mut out, 8).await, Work::Close(c) if c.code == 4408));
    }

    #[test]
    fn a_full_or_closing_mailbox_refuses_frames() {
        let outbox = Outbox::new(1);
        assert!(outbox.send(frame("a")));
        assert!(!outbox.send(frame("b")));
        let outbox = Outbox::new(1);
        outbox.close(Close::lagging());
        assert!(!outbox.send(frame("a")));
    }

    #[tokio::test]
    async fn a_waiting_writer_is_woken_by_a_send() {
        let fanout = Fanout::new(8);
        let outbox = Arc::new(Outbox::new(4));
        let feed = fanout.cursor(outbox.clone());
        let waiter = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                let work = outbox.work(&feed, &mut out, 8).await;
                (matches!(work, Work::Own), out)
            })
        };
        tokio::task::yield_now().await;
        assert!(outbox.send(frame("hello")));
        let (own, out) = waiter.await.unwrap();
        assert!(own);
        assert_eq!(out, vec![frame("hello")]);
    }
}
