//! Fan-out: `--senders` of the viewers chat at `--rate` messages per second
//! each; every viewer should receive every accepted message of its room
//! exactly once. Each message is `lg SENDER SEQ SENT_AT_NANOS`, so a viewer
//! can tell which one arrived, how late, and whether twice.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use memchr::memmem;
use serde_json::json;

use crate::client::{ClientStats, Plan};
use crate::report::Delivery;

/// The first `senders` clients chat; the others listen.
pub fn plan(i: usize, senders: usize, rate: f64) -> Plan {
    if i < senders {
        Plan::Chat {
            rate,
            sender: i as u32,
        }
    } else {
        Plan::Listen
    }
}

/// When set (`--mention-prefix`), every message mentions one of this many
/// users of this name prefix.
pub static MENTIONS: std::sync::OnceLock<(String, u32)> = std::sync::OnceLock::new();

/// The chat frame of message `seq` of `sender`, stamped with the time now
/// (and mentioning a user, with `--mention-prefix`).
pub fn frame(sender: u32, seq: u64) -> String {
    let mut text = format!("lg {sender} {seq} {}", now_nanos());
    if let Some((prefix, users)) = MENTIONS.get() {
        let k = (u64::from(sender) + seq) % u64::from(*users) + 1;
        text.push_str(&format!(" @{prefix}{k}"));
    }
    json!({ "message": text }).to_string()
}

/// A load-test chat line as a viewer received it.
pub struct LoadMessage {
    pub sender: u32,
    pub seq: u64,
    pub sent_at_nanos: u64,
}

impl LoadMessage {
    /// The line in a live chat event (`"message":"lg SENDER SEQ NANOS"`);
    /// history replays are not deliveries, and other frames are `None`.
    ///
    /// A hand scan, not a JSON parse, on purpose: every viewer reads every
    /// chat line, so `scripts/bench fanout-1000` delivers hundreds of
    /// thousands of frames a second on the cores the server also runs on,
    /// and parsing each as JSON took the generator's CPU from its sockets.
    /// The server writes keys without spaces (`serde_json`) and the line is
    /// digits and spaces, so the quote after it ends it.
    pub fn scan(text: &str) -> Option<LoadMessage> {
        static MARK: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new("\"message\":\"lg "));
        static HISTORY: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new("\"history\""));
        let start = MARK.find(text.as_bytes())? + MARK.needle().len();
        if HISTORY.find(text.as_bytes()).is_some() {
            return None;
        }
        let rest = &text[start..];
        let body = &rest[..memchr::memchr(b'"', rest.as_bytes())?];
        let mut it = body.split(' ');
        Some(LoadMessage {
            sender: it.next()?.parse().ok()?,
            seq: it.next()?.parse().ok()?,
            sent_at_nanos: it.next()?.parse().ok()?,
        })
    }

    /// Microseconds from sending to now.
    pub fn latency_us(&self) -> u64 {
        now_nanos().saturating_sub(self.sent_at_nanos) / 1000
    }
}

/// Wall-clock nanoseconds: senders and receivers are different tasks.
fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Receipt counts per (sender, seq); both are small dense integers.
#[derive(Default)]
pub struct Seen {
    by_sender: Vec<Vec<u8>>,
}

impl Seen {
    pub fn record(&mut self, sender: u32, seq: u64) {
        let sender = sender as usize;
        if self.by_sender.len() <= sender {
            self.by_sender.resize_with(sender + 1, Vec::new);
        }
        let seqs = &mut self.by_sender[sender];
        let seq = seq as usize;
        if seqs.len() <= seq {
            seqs.resize(seq + 1, 0);
        }
        seqs[seq] = seqs[seq].saturating_add(1);
    }

    fn unique(&self) -> u64 {
        self.by_sender.iter().flatten().filter(|&&n| n > 0).count() as u64
    }

    fn duplicates(&self) -> u64 {
        self.by_sender
            .iter()
            .flatten()
            .map(|&n| u64::from(n.saturating_sub(1)))
            .sum()
    }
}

/// Every viewer should see every message accepted in its room exactly once;
/// the payload is the chat frames delivered.
pub fn delivery(stats: &[ClientStats], rooms: usize) -> Delivery {
    let mut accepted_in = vec![0u64; rooms];
    for s in stats {
        accepted_in[s.room] += s.accepted();
    }
    let mut lost = 0u64;
    let mut duplicated = 0u64;
    for s in stats {
        lost += accepted_in[s.room].saturating_sub(s.seen.unique());
        duplicated += s.seen.duplicates();
    }
    Delivery {
        lost: Some(lost),
        duplicated: Some(duplicated),
        payload: stats.iter().map(|s| s.frames).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_a_live_load_line() {
        let text = r#"{"type":"chat.message","id":7,"username":"u1","message":"lg 3 41 1700000000000000000","message_type":"message"}"#;
        let line = LoadMessage::scan(text).expect("a load line");
        assert_eq!(
            (line.sender, line.seq, line.sent_at_nanos),
            (3, 41, 1_700_000_000_000_000_000)
        );
    }

    #[test]
    fn skips_history_and_other_frames() {
        let replay = r#"{"type":"chat.message","id":7,"message":"lg 3 41 17","history":true}"#;
        assert!(LoadMessage::scan(replay).is_none());
        let chat = r#"{"type":"chat.message","id":8,"message":"hello"}"#;
        assert!(LoadMessage::scan(chat).is_none());
        let burst = r#"{"type":"reaction.burst","counts":{"1":120},"window_ms":150}"#;
        assert!(LoadMessage::scan(burst).is_none());
        let garbled = r#"{"type":"chat.message","message":"lg 3 x 17"}"#;
        assert!(LoadMessage::scan(garbled).is_none());
    }

    #[test]
    fn the_sent_frame_scans_back() {
        let sent: serde_json::Value = serde_json::from_str(&frame(2, 5)).expect("json");
        let echoed = json!({"type": "chat.message", "message": sent["message"]}).to_string();
        let line = LoadMessage::scan(&echoed).expect("a load line");
        assert_eq!((line.sender, line.seq), (2, 5));
    }

    #[test]
    fn counts_duplicates_and_unique_receipts() {
        let mut seen = Seen::default();
        for (sender, seq) in [(0, 1), (0, 1), (0, 2), (4, 1)] {
            seen.record(sender, seq);
        }
        assert_eq!((seen.unique(), seen.duplicates()), (3, 1));
    }
}
