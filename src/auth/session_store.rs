//! The cookie-session store: tower-sessions' Postgres store, with loads
//! coalesced. A reconnect storm loads thousands of sessions a second; one
//! `WHERE id = ANY($1)` per batch costs Postgres and the pool a fraction of
//! one query per socket. Writes go to the store unchanged.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::PostgresStore;

use super::session::USER_KEY;
use super::SessionUser;
use crate::coalesce::Coalescer;
use crate::store::sessions;

/// Loads in flight at once.
const WORKERS: usize = 4;
/// Session ids looked up by one query, at most.
const MAX_BATCH: usize = 256;
const QUEUE: usize = 8192;

type LoadResult = session_store::Result<Option<Record>>;

struct Load {
    id: Id,
    reply: oneshot::Sender<LoadResult>,
}

/// The store behind the `sessionid` cookie.
#[derive(Clone)]
pub struct SessionBackend {
    inner: PostgresStore,
    loads: Coalescer<Load>,
    pool: PgPool,
}

impl fmt::Debug for SessionBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBackend").finish_non_exhaustive()
    }
}

impl SessionBackend {
    /// Spawns the load workers on the current runtime.
    pub fn new(pool: PgPool) -> Self {
        let inner = PostgresStore::new(pool.clone());
        let loader = pool.clone();
        let loads = Coalescer::start(WORKERS, QUEUE, MAX_BATCH, move |jobs| {
            let pool = loader.clone();
            async move { load_all(&pool, jobs).await }
        });
        Self { inner, loads, pool }
    }
}

impl SessionBackend {
    /// Indexes a logged-in session by its user, so that deactivating the
    /// user can find and delete it.
    async fn record_owner(&self, record: &Record) -> session_store::Result<()> {
        let Some(user) = record
            .data
            .get(USER_KEY)
            .and_then(|v| serde_json::from_value::<SessionUser>(v.clone()).ok())
        else {
            return Ok(());
        };
        sessions::record_owner(
            &self.pool,
            &record.id.to_string(),
            user.tenant_id,
            user.user_id,
        )
        .await
        .map_err(|e| session_store::Error::Backend(e.to_string()))
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.record_owner(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.inner.save(record).await?;
        self.record_owner(record).await
    }

    async fn load(&self, id: &Id) -> LoadResult {
        let id = *id;
        self.loads
            .call(|reply| Load { id, reply })
            .await
            .map_err(|e| session_store::Error::Backend(e.to_string()))?
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.inner.delete(id).await
    }
}

#[async_trait]
impl ExpiredDeletion for SessionBackend {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.inner.delete_expired().await
    }
}

/// Looks up every job's session with one query and answers each job.
async fn load_all(pool: &PgPool, jobs: Vec<Load>) {
    let ids: Vec<String> = jobs.iter().map(|j| j.id.to_string()).collect();
    // The table and encoding of `PostgresStore` (its default schema and
    // table; MessagePack records), which writes every session.
    let rows: Result<Vec<(String, Vec<u8>)>, sqlx::Error> = sqlx::query_as(
        r#"SELECT id, data FROM "tower_sessions"."session" WHERE id = ANY($1) AND expiry_date > $2"#,
    )
    .bind(&ids)
    .bind(OffsetDateTime::now_utc())
    .fetch_all(pool)
    .await;
    metrics::histogram!("stampede_session_batch_rows").record(jobs.len() as f64);
    match rows {
        Ok(rows) => {
            let found: HashMap<String, Vec<u8>> = rows.into_iter().collect();
            // Not `remove`: one session can be in a batch more than once (the
            // same browser opening two tabs at the same moment).
            for (job, id) in jobs.into_iter().zip(ids) {
                let record = found
                    .get(&id)
                    .map(|data| {
                        rmp_serde::from_slice::<Record>(data)
                            .map_err(|e| session_store::Error::Decode(e.to_string()))
                    })
                    .transpose();
                let _ = job.reply.send(record);
            }
        }
        Err(err) => {
            let text = err.to_string();
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(session_store::Error::Backend(text.clone())));
            }
        }
    }
}
