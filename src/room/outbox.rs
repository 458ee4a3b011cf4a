//! A socket's mailbox: everything that may wake its writer, behind one waker.
//! The writer waits on a single thing per wake-up — a close request, frames
//! addressed to this socket alone (history, replies, errors), or new frames
//! in the room's broadcast ring — instead of polling a channel for each. It
//! also allocates nothing until used, which matters at tens of thousands of
//! idle sockets.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Mutex;
use std::task::Poll;

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;

use super::Close;

/// One socket's mailbox, shared by its writer, its reader and the room.
#[derive(Debug)]
pub struct Outbox {
    waker: AtomicWaker,
    direct: Mutex<Direct>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Direct {
    frames: VecDeque<Utf8Bytes>,
    close: Option<Close>,
}

/// What the writer should do next.
#[derive(Debug)]
pub enum Work {
    /// Send an optional last frame and this close, then stop.
    Close(Close),
    /// Write these frames, addressed to this socket alone, in order.
    Direct,
    /// Read the broadcast ring.
    Ring,
}

impl Outbox {
    /// A mailbox holding at most `capacity` frames addressed to the socket.
    pub fn new(capacity: usize) -> Self {
        Outbox {
            waker: AtomicWaker::new(),
            direct: Mutex::new(Direct::default()),
            capacity: capacity.max(1),
        }
    }

    fn direct(&self) -> std::sync::MutexGuard<'_, Direct> {
        self.direct.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame for this socket only; false when the mailbox is full
    /// or the socket is being closed.
    pub fn send(&self, frame: Utf8Bytes) -> bool {
        let mut direct = self.direct();
        if direct.close.is_some() || direct.frames.len() >= self.capacity {
            return false;
        }
        direct.frames.push_back(frame);
        drop(direct);
        self.waker.wake();
        true
    }

    /// Asks the writer to close the socket; the first request wins.
    pub fn close(&self, close: Close) {
        let mut direct = self.direct();
        if direct.close.is_none() {
            direct.close = Some(close);
        }
        drop(direct);
        self.waker.wake();
    }

    /// Wakes the writer if it is waiting.
    pub fn wake(&self) {
        self.waker.wake();
    }

    /// Waits for work. Direct frames go first (history must precede the
    /// broadcasts that followed the join); up to `max` are moved to `out`.
    /// `ring_unread` tells whether the room's ring has frames for this socket.
    pub async fn work(
        &self,
        ring_unread: impl Fn() -> bool,
        out: &mut Vec<Utf8Bytes>,
        max: usize,
    ) -> Work {
        poll_fn(|cx| {
            if let Some(work) = self.ready(&ring_unread, out, max) {
                return Poll::Ready(work);
            }
            self.waker.register(cx.waker());
            // Checked again after registering: a send in between would
            // otherwise wake nobody.
            match self.ready(&ring_unread, out, max) {
                Some(work) => Poll::Ready(work),
                None => Poll::Pending,
            }
        })
        .await
    }

    fn ready(
        &self,
        ring_unread: &impl Fn() -> bool,
        out: &mut Vec<Utf8Bytes>,
        max: usize,
    ) -> Option<Work> {
        let mut direct = self.direct();
        if let Some(close) = direct.close.take() {
            return Some(Work::Close(close));
        }
        if !direct.frames.is_empty() {
            let n = direct.frames.len().min(max);
            out.extend(direct.frames.drain(..n));
            return Some(Work::Direct);
        }
        drop(direct);
        ring_unread().then_some(Work::Ring)
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
    async fn close_beats_direct_frames_which_beat_the_ring() {
        let fanout = Fanout::new(8);
        let outbox = Arc::new(Outbox::new(4));
        let feed = fanout.cursor(Arc::default());
        fanout.push(frame("ring"), crate::room::fanout::Kind::Chat);
        assert!(outbox.send(frame("direct")));
        let mut out = Vec::new();
        assert!(matches!(
            outbox.work(|| feed.has_unread(), &mut out, 8).await,
            Work::Direct
        ));
        assert_eq!(out, vec![frame("direct")]);
        assert!(matches!(
            outbox.work(|| feed.has_unread(), &mut out, 8).await,
            Work::Ring
        ));
        outbox.close(Close {
            code: 4408,
            reason: "x",
            frame: None,
        });
        assert!(
            matches!(outbox.work(|| feed.has_unread(), &mut out, 8).await, Work::Close(c) if c.code == 4408)
        );
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
        let feed = fanout.cursor(Arc::default());
        let waiter = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                let work = outbox.work(|| feed.has_unread(), &mut out, 8).await;
                (matches!(work, Work::Direct), out)
            })
        };
        tokio::task::yield_now().await;
        assert!(outbox.send(frame("hello")));
        let (direct, out) = waiter.await.unwrap();
        assert!(direct);
        assert_eq!(out, vec![frame("hello")]);
    }
}
