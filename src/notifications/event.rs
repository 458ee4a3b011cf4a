//! What crosses nodes through the channel layer: new notifications and
//! read marks, on one group per tenant.
//!
//! **Why one group per tenant, not one per user.** A node subscribes once
//! per tenant it holds devices of, so a reconnect storm of 20,000 devices
//! costs no Redis `SUBSCRIBE`s, and an admin's message to a whole tenant is
//! a few publishes (chunks of [`MAX_ITEMS`] recipients) instead of one per
//! user. The price is that every node hears every event of the tenant and
//! drops those for users it holds no device of: one hash lookup each.
//! Notifications are rare next to chat (at most one per mention), so this
//! waste is small, while per-user groups would turn every connect and
//! disconnect into Redis traffic.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::store::notifications::Notification;

/// Recipients per published event: bounds one message's size (≈ 300 bytes
/// per recipient) when a whole tenant is notified.
pub const MAX_ITEMS: usize = 500;

/// The group of tenant `schema`'s notification events. The braces are a
/// Redis Cluster hash tag, like the tenant's other groups.
pub fn group(schema: &str) -> String {
    format!("stampede:{{{schema}}}:notifications")
}

/// One notification for one user, with the user's unread count after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    pub user_id: i32,
    pub unread: i64,
    pub notification: Notification,
}

/// What a node tells the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Notifications were stored.
    New { items: Vec<Delivered> },
    /// Some of a user's notifications were marked read.
    Read {
        user_id: i32,
        ids: Vec<i64>,
        unread: i64,
    },
}

impl Event {
    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(payload: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let read = Event::Read {
            user_id: 3,
            ids: vec![1, 2],
            unread: 4,
        };
        assert_eq!(Event::decode(&read.encode()).unwrap(), read);
        assert_eq!(group("acme"), "stampede:{acme}:notifications");
    }
}
