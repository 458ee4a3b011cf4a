//! Closing the rooms of streams that ended, on every node.
//!
//! Ending a stream notifies every node through Postgres
//! (`store::stream_lifecycle`); each node that runs the stream's room tells
//! it, and the room sends `stream.ended` to its sockets and closes them
//! (1000). A notification sent while a node's listening connection was down
//! would be lost, so after every (re)connect the node asks which of the
//! streams of its rooms have ended.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use super::{RoomHandle, RoomKey, RoomRegistry};
use crate::shutdown::Shutdown;
use crate::store::stream_lifecycle::{self, StreamEnded, CHANNEL};
use crate::tenant::SchemaName;

/// Starts listening (until shutdown).
pub fn start(pool: PgPool, rooms: RoomRegistry, shutdown: Shutdown) {
    tokio::spawn(listen(pool, rooms, shutdown));
}

async fn listen(pool: PgPool, rooms: RoomRegistry, shutdown: Shutdown) {
    let mut listener: Option<PgListener> = None;
    loop {
        let Some(active) = listener.as_mut() else {
            match connect(&pool).await {
                Ok(l) => {
                    listener = Some(l);
                    sweep(&pool, &rooms).await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "stream-end listener cannot connect");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.begun() => return,
                    }
                }
            }
            continue;
        };
        let received = tokio::select! {
            r = active.try_recv() => r,
            _ = shutdown.begun() => return,
        };
        match received {
            Ok(Some(note)) => match serde_json::from_str::<StreamEnded>(note.payload()) {
                Ok(ended) => {
                    let key = RoomKey {
                        tenant_id: ended.tenant_id,
                        stream_id: ended.stream_id,
                    };
                    if let Some(room) = rooms.get(key) {
                        end(&room).await;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "malformed stream-end notification"),
            },
            // The connection was lost; the next loop reconnects and sweeps.
            Ok(None) | Err(_) => listener = None,
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn end(room: &RoomHandle) {
    tracing::info!(
        stream_id = room.key.stream_id,
        "stream ended: closing its room"
    );
    // A room that stopped meanwhile has no sockets to close.
    let _ = room.end().await;
}

/// Ends the running rooms whose stream ended while nobody listened.
async fn sweep(pool: &PgPool, rooms: &RoomRegistry) {
    let mut by_schema: HashMap<SchemaName, Vec<RoomHandle>> = HashMap::new();
    for room in rooms.handles() {
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
