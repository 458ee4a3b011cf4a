//! One open notification socket (a "device") as the hub sees it: its
//! mailbox, its coalescing, and the gate that keeps everything behind the
//! `notification.sync` frame.
//!
//! A device registers with the hub *before* its sync is read from the
//! database, so nothing published meanwhile is missed. Events that arrive
//! before the read begins are dropped by [`Device::begin_sync`] (the read
//! sees them); those that arrive during the read wait behind the gate and
//! follow the sync frame (a notification may then appear in both: clients
//! key notifications by id).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::time::Instant;

use super::coalesce::Coalesce;
use super::event::Delivered;
use super::frames;
use crate::i18n::Locale;
use crate::room::outbox::Outbox;
use crate::room::Close;
use crate::store::notifications::Notification;

/// Read marks held back while a device syncs; past this the device is told
/// to reconnect instead (a sync is only a round trip, so this never fills
/// in practice).
const MAX_HELD: usize = 64;

/// A new notification waiting for its frame.
#[derive(Debug)]
struct Waiting {
    notification: Notification,
    unread: i64,
}

#[derive(Debug)]
struct Gate {
    synced: bool,
    held: Vec<Utf8Bytes>,
    /// Boxed: an idle device (nothing waiting) then costs a pointer here,
    /// not a whole notification's worth of bytes.
    coalesce: Coalesce<Box<Waiting>>,
}

/// One notification socket's shared state; the hub writes, the socket's
/// task reads.
#[derive(Debug)]
pub struct Device {
    outbox: Arc<Outbox>,
    gate: Mutex<Gate>,
    /// Set when a notification starts waiting, so that the socket's task,
    /// woken through the outbox, re-reads [`Device::due`] and arms its timer.
    rearm: AtomicBool,
    /// The language titles are worded in.
    locale: Locale,
}

impl Device {
    /// A device writing to `outbox`, sending at most one `notification.new`
    /// per `interval`.
    pub fn new(outbox: Arc<Outbox>, interval: Duration, locale: Locale) -> Self {
        Self {
            outbox,
            gate: Mutex::new(Gate {
                synced: false,
                held: Vec::new(),
                coalesce: Coalesce::new(interval),
            }),
            rearm: AtomicBool::new(false),
            locale,
        }
    }

    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }

    fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame; a device whose mailbox is full cannot keep up and is
    /// told to reconnect (it then syncs).
    fn send(&self, frame: Utf8Bytes, kind: &'static str) {
        if self.outbox.send(frame) {
            metrics::counter!("stampede_notification_frames_total", "kind" => kind).increment(1);
        } else {
            metrics::counter!("stampede_frames_dropped_total", "reason" => "lagging").increment(1);
            self.outbox.close(Close::lagging());
        }
    }

    /// The sync's read is about to begin: what arrived so far is in it.
    pub fn begin_sync(&self) {
        let mut gate = self.gate();
        gate.held.clear();
        gate.coalesce.clear();
    }

    /// Sends the sync frame, then what arrived during the read.
    pub fn finish_sync(&self, sync: Utf8Bytes) {
        let mut gate = self.gate();
        self.send(sync, "sync");
        gate.synced = true;
        for frame in std::mem::take(&mut gate.held) {
            self.send(frame, "read");
        }
        if let Some((w, coalesced)) = gate.coalesce.take_now(Instant::now()) {
            self.send(
                frames::new(&w.notification, w.unread, coalesced, self.locale),
                "new",
            );
        }
    }

    /// A new notification for this device's user.
    pub fn offer(&self, item: &Delivered) {
        let waiting = Box::new(Waiting {
            notification: item.notification.clone(),
            unread: item.unread,
        });
        let mut gate = self.gate();
        let now = Instant::now();
        if !gate.synced {
            // Held (and counted) until the sync has gone out.
            gate.coalesce.hold(waiting);
            return;
        }
        match gate.coalesce.offer(now, waiting) {
            Some((w, coalesced)) => self.send(
                frames::new(&w.notification, w.unread, coalesced, self.locale),
                "new",
            ),
            None => {
                self.rearm.store(true, Ordering::Release);
                self.outbox.wake();
            }
        }
    }

    /// Some of the user's notifications were marked read (anywhere).
    pub fn read(&self, ids: &[i64], unread: i64) {
        let mut gate = self.gate();
        if let Some(waiting) = gate.coalesce.pending_mut() {
            waiting.unread = unread;
            if ids.contains(&waiting.notification.id) {
                waiting.notification.read_at = Some(now_timestamp());
            }
        }
        let frame = frames::read(ids, unread);
        if gate.synced {
            self.send(frame, "read");
        } else if gate.held.len() < MAX_HELD {
            gate.held.push(frame);
        } else {
            self.outbox.close(Close::lagging());
        }
    }

    /// When the waiting notification may go (synced devices only).
    pub fn due(&self) -> Option<Instant> {
        let gate = self.gate();
        if gate.synced {
            gate.coalesce.due()
        } else {
            None
        }
    }

    /// Whether a notification started waiting since the last call.
    pub fn take_rearm(&self) -> bool {
        self.rearm.swap(false, Ordering::AcqRel)
    }

    /// Sends the waiting notification if its time has come.
    pub fn flush(&self, now: Instant) {
        let mut gate = self.gate();
        if let Some((w, coalesced)) = gate.coalesce.take_due(now) {
            self.send(
                frames::new(&w.notification, w.unread, coalesced, self.locale),
                "new",
            );
        }
    }

    /// Closes the socket (shutdown, revocation, lost events).
    pub fn close(&self, close: Close) {
        self.outbox.close(close);
    }
}

fn now_timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    crate::store::format_timestamp(time::PrimitiveDateTime::new(now.date(), now.time()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::outbox::Work;

    fn item(id: i64, unread: i64) -> Delivered {
        Delivered {
            user_id: 1,
            unread,
            notification: Notification {
                id,
                kind_type: "info".into(),
                kind: "system".into(),
                title: format!("n{id}"),
                title_key: None,
                title_args: Default::default(),
                body: String::new(),
                link: None,
                read_at: None,
                created_at: "2026-12-03T00:00:00Z".into(),
            },
        }
    }

    async fn queued(outbox: &Outbox) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        match outbox.work(|| false, &mut out, 64).await {
            Work::Direct => {}
            other => panic!("expected frames, got {other:?}"),
        }
        out.iter()
            .map(|f| serde_json::from_str(f.as_str()).unwrap())
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_sync_goes_first_and_what_it_covers_is_not_repeated() {
        let outbox = Arc::new(Outbox::new(16));
        let device = Device::new(outbox.clone(), Duration::from_secs(1), Locale::En);
        // Before the read began: covered by the sync, dropped.
        device.offer(&item(1, 1));
        device.read(&[1], 0);
        device.begin_sync();
        // During the read: held, then sent after the sync.
        device.read(&[7], 3);
        device.offer(&item(8, 4));
        device.offer(&item(9, 5));
        assert_eq!(device.due(), None, "nothing is due before the sync");
        device.finish_sync(frames::sync(3, &[], Locale::En));
        let got = queued(&outbox).await;
        let types: Vec<&str> = got.iter().map(|v| v["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            ["notification.sync", "notification.read", "notification.new"]
        );
        assert_eq!(got[2]["notification"]["id"], 9);
        assert_eq!(got[2]["coalesced"], 1, "9 stands for 8 too");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_notification_takes_later_read_marks_into_account() {
        let outbox = Arc::new(Outbox::new(16));
        let device = Device::new(outbox.clone(), Duration::from_secs(1), Locale::En);
        device.begin_sync();
        device.finish_sync(frames::sync(0, &[], Locale::En));
        device.offer(&item(1, 1));
        device.offer(&item(2, 2));
        assert!(device.take_rearm(), "the socket is told to arm its timer");
        let due = device.due().expect("one waits");
        device.read(&[2], 1);
        device.flush(due);
        let got = queued(&outbox).await;
        let new = got.last().unwrap();
        assert_eq!(new["type"], "notification.new");
        assert_eq!(new["unread"], 1, "the count after the read mark");
        assert!(new["notification"]["read_at"].is_string(), "already read");
    }

    #[test]
    fn an_idle_device_is_small() {
        // Held by every open notification socket, most of them idle.
        assert!(
            std::mem::size_of::<Device>() <= 128,
            "{}",
            std::mem::size_of::<Device>()
        );
    }

    #[test]
    fn a_device_that_cannot_keep_up_is_closed() {
        let outbox = Arc::new(Outbox::new(1));
        let device = Device::new(outbox.clone(), Duration::from_secs(1), Locale::En);
        device.begin_sync();
        device.finish_sync(frames::sync(0, &[], Locale::En));
        device.read(&[1], 0);
        assert!(!outbox.send(Utf8Bytes::from_static("x")), "closed");
    }
}
