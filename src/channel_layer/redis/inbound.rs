//! Messages arriving from Redis, delivered to this node's subscribers.

use std::sync::Arc;

use bytes::Bytes;
use redis::{PushInfo, PushKind, Value};
use tokio::sync::mpsc;

use super::*;

/// Delivers messages from Redis to local subscribers, and tells the driver
/// when a shard dropped one of our subscriptions.
pub(super) async fn dispatch(
    shared: Arc<Driver>,
    mut push_rx: mpsc::UnboundedReceiver<PushInfo>,
    control_tx: mpsc::UnboundedSender<Control>,
) {
    while let Some(push) = push_rx.recv().await {
        match push.kind {
            // `SMessage`: sharded pub/sub, on a cluster.
            PushKind::Message | PushKind::SMessage => {
                let mut data = push.data.into_iter();
                let (Some(Value::BulkString(channel)), Some(Value::BulkString(payload))) =
                    (data.next(), data.next())
                else {
                    continue;
                };
                if payload.len() < 17 || payload[..16] == shared.node_id {
                    continue; // malformed, or our own echo (delivered locally already)
                }
                let Ok(channel) = String::from_utf8(channel) else {
                    continue;
                };
                if let Some(delivery) = open_envelope(Bytes::from(payload).slice(16..)) {
                    shared.local.deliver(&channel, delivery);
                }
            }
            PushKind::Disconnection => shared.mark_down(&"connection lost"),
            // Sharded subscriptions (cluster): a shard confirming one, or
            // dropping one, ours or (a slot moved) the shard's own.
            PushKind::SSubscribe | PushKind::SUnsubscribe => {
                let subscribed = push.kind == PushKind::SSubscribe;
                if let Some(Value::BulkString(channel)) = push.data.into_iter().next() {
                    if let Ok(group) = String::from_utf8(channel) {
                        let _ = control_tx.send(if subscribed {
                            Control::Confirmed(group)
                        } else {
                            Control::Lost(group)
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads `U<payload>` or `S<offset>|<epoch>|<payload>`.
pub(super) fn open_envelope(body: Bytes) -> Option<Delivery> {
    match body.first()? {
        b'U' => Some(Delivery {
            seq: None,
            payload: body.slice(1..),
        }),
        b'S' => {
            let rest = &body[1..];
            let bar1 = rest.iter().position(|b| *b == b'|')?;
            let bar2 = bar1 + 1 + rest[bar1 + 1..].iter().position(|b| *b == b'|')?;
            let offset = std::str::from_utf8(&rest[..bar1]).ok()?.parse().ok()?;
            let epoch = std::str::from_utf8(&rest[bar1 + 1..bar2]).ok()?;
            Some(Delivery {
                seq: Some(Seq {
                    offset,
                    epoch: Arc::from(epoch),
                }),
                payload: body.slice(1 + bar2 + 1..),
            })
        }
        _ => None,
    }
}
