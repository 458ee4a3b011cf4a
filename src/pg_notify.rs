//! The node's one Postgres `LISTEN` connection, shared by everything that
//! must hear about changes made on other nodes or by the CLI (session
//! revocations, stream ends). One connection, not one per purpose: each
//! holds a pool connection, and while the database is down each would
//! retry for one, competing with the chat writers for the pool.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::shutdown::Shutdown;

/// What a node does with the notifications of one channel.
pub trait Listener: Send + Sync + 'static {
    /// The Postgres channel.
    fn channel(&self) -> &'static str;

    /// One notification on [`Listener::channel`].
    fn notified<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, ()>;

    /// Called after every (re)connect: notifications sent while nobody
    /// listened are lost, so catch up from the database.
    fn caught_up<'a>(&'a self, pool: &'a PgPool) -> BoxFuture<'a, ()>;
}

/// Listens for `listeners` until shutdown.
pub fn start(pool: PgPool, listeners: Vec<Arc<dyn Listener>>, shutdown: Shutdown) {
    tokio::spawn(listen(pool, listeners, shutdown));
}

async fn listen(pool: PgPool, listeners: Vec<Arc<dyn Listener>>, shutdown: Shutdown) {
    let channels: Vec<&str> = listeners.iter().map(|l| l.channel()).collect();
    let mut active: Option<PgListener> = None;
    loop {
        let Some(connection) = active.as_mut() else {
            match connect(&pool, &channels).await {
                Ok(l) => {
                    active = Some(l);
                    for listener in &listeners {
                        listener.caught_up(&pool).await;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the notification listener cannot connect");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.begun() => return,
                    }
                }
            }
            continue;
        };
        let received = tokio::select! {
            r = connection.try_recv() => r,
            _ = shutdown.begun() => return,
        };
        match received {
            Ok(Some(note)) => {
                let channel = note.channel();
                if let Some(listener) = listeners.iter().find(|l| l.channel() == channel) {
                    listener.notified(note.payload()).await;
                }
            }
            // The connection was lost; the next loop reconnects and catches up.
            Ok(None) | Err(_) => active = None,
        }
    }
}

async fn connect(pool: &PgPool, channels: &[&str]) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all(channels.iter().copied()).await?;
    Ok(listener)
}
