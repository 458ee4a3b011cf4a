//! The room half of a WebSocket handshake (the stream's active room, the
//! user's standing, any ban), looked up for all handshakes arriving together
//! with one query per tenant. A reconnect storm after a deploy is thousands
//! of these a second, all for the same few rooms.

use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::coalesce::{runs_by_key, Coalescer};
use crate::error::AppError;
use crate::store::handshake::{self, HandshakeInfo};
use crate::tenant::SchemaName;

/// Queries in flight at once.
const WORKERS: usize = 4;
/// Handshakes answered by one query, at most.
const MAX_BATCH: usize = 256;
const QUEUE: usize = 8192;

type Answer = Result<Option<HandshakeInfo>, String>;

struct Ask {
    schema: SchemaName,
    stream_id: i32,
    user_id: i32,
    reply: oneshot::Sender<Answer>,
}

/// Handle to the node's handshake lookups; cheap to clone.
#[derive(Clone)]
pub struct Admission {
    asks: Coalescer<Ask>,
}

impl Admission {
    /// Spawns the lookup workers on the current runtime.
    pub fn start(pool: PgPool) -> Self {
        let asks = Coalescer::start(WORKERS, QUEUE, MAX_BATCH, move |asks: Vec<Ask>| {
            let pool = pool.clone();
            async move {
                for (schema, tenant) in runs_by_key(asks, |a| &a.schema) {
                    answer(&pool, &schema, tenant).await;
                }
            }
        });
        Self { asks }
    }

    /// `None` if the stream is not live, has no active room, or the user is
    /// unknown.
    pub async fn lookup(
        &self,
        schema: &SchemaName,
        stream_id: i32,
        user_id: i32,
    ) -> Result<Option<HandshakeInfo>, AppError> {
        self.asks
            .call(|reply| Ask {
                schema: schema.clone(),
                stream_id,
                user_id,
                reply,
            })
            .await
            .map_err(|e| AppError::Unavailable(e.to_string()))?
            .map_err(AppError::Unavailable)
    }
}

async fn answer(pool: &PgPool, schema: &SchemaName, asks: Vec<Ask>) {
    let pairs: Vec<(i32, i32)> = asks.iter().map(|a| (a.stream_id, a.user_id)).collect();
    match handshake::lookup(pool, schema, &pairs).await {
        Ok(infos) => {
            for (ask, info) in asks.into_iter().zip(infos) {
                let _ = ask.reply.send(Ok(info));
            }
        }
        Err(err) => {
            tracing::error!(error = %err, handshakes = asks.len(), "handshake lookup failed");
            for ask in asks {
                let _ = ask.reply.send(Err("database unavailable".into()));
            }
        }
    }
}
