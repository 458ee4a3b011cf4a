//! Closing the rooms of streams that ended, on every node.
//!
//! Ending a stream notifies every node through Postgres
//! (`store::stream_lifecycle`); each node that runs the stream's room tells
//! it, and the room sends `stream.ended` to its sockets and closes them
//! (1000). A notification sent while a node's listening connection
//! (`crate::pg_notify`) was down would be lost, so after every (re)connect the
//! node asks which of the streams of its rooms have ended.

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use sqlx::PgPool;

use super::{RoomHandle, RoomKey, RoomRegistry};
use crate::pg_notify::Listener;
use crate::store::stream_lifecycle::{self, StreamEnded, CHANNEL};
use crate::tenant::SchemaName;

/// Ends the rooms of streams that ended.
pub struct StreamEnds {
    rooms: RoomRegistry,
}

impl StreamEnds {
    pub fn new(rooms: RoomRegistry) -> Self {
        Self { rooms }
    }

    /// Ends the running rooms whose stream ended while nobody listened.
    async fn sweep(&self, pool: &PgPool) {
        let mut by_schema: HashMap<SchemaName, Vec<RoomHandle>> = HashMap::new();
        for room in self.rooms.handles() {
            by_schema.entry(room.schema.clone()).or_default().push(room);
        }
        for (schema, handles) in by_schema {
            let ids: Vec<i32> = handles.iter().map(|h| h.key.stream_id).collect();
            match stream_lifecycle::ended_among(pool, &schema, &ids).await {
                Ok(ended) => {
                    for room in handles.iter().filter(|h| ended.contains(&h.key.stream_id)) {
                        end(room).await;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "stream-end sweep failed"),
            }
        }
    }
}

impl Listener for StreamEnds {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn notified<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match serde_json::from_str::<StreamEnded>(payload) {
                Ok(ended) => {
                    let key = RoomKey {
                        tenant_id: ended.tenant_id,
                        stream_id: ended.stream_id,
                    };
                    if let Some(room) = self.rooms.get(key) {
                        end(&room).await;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "malformed stream-end notification"),
            }
        })
    }

    fn caught_up<'a>(&'a self, pool: &'a PgPool) -> BoxFuture<'a, ()> {
        Box::pin(self.sweep(pool))
    }
}

async fn end(room: &RoomHandle) {
    tracing::info!(
        stream_id = room.key.stream_id,
        "stream ended: closing its room"
    );
    // A room that stopped meanwhile has no sockets to close.
    let _ = room.end().await;
}
