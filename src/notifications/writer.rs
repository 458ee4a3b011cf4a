//! The batching writer: producers queue notifications without waiting
//! ([`super::Notifier::notify`] is a `try_send`), and one task stores
//! whatever queued meanwhile, one statement per tenant (`INSERT … SELECT
//! FROM unnest`), then publishes them to the tenant's group. Chat rooms that
//! produce mentions therefore never wait on this table.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::event::{self, Delivered, Event, MAX_ITEMS};
use super::NewNotification;
use crate::channel_layer::ChannelLayer;
use crate::coalesce::runs_by_key;
use crate::shutdown::Shutdown;
use crate::store::notifications::{self, Notification};
use crate::store::StoreError;
use crate::tenant::SchemaName;

/// Jobs taken off the queue at once.
const MAX_JOBS: usize = 512;
/// Rows in one INSERT at most.
const MAX_ROWS: usize = 5000;

/// To whom a queued notification goes.
#[derive(Debug)]
pub(super) enum Recipients {
    Users(Vec<i32>),
    /// Every active user of the tenant.
    Tenant,
}

/// One queued notification.
#[derive(Debug)]
pub(super) struct Job {
    pub schema: SchemaName,
    pub recipients: Recipients,
    pub notification: NewNotification,
}

/// Runs until every sender is gone, or, once shutdown began and the sockets
/// closed, until the queue is empty; what queued is stored either way.
pub(super) async fn run(
    pool: sqlx::PgPool,
    layer: Arc<dyn ChannelLayer>,
    mut jobs: mpsc::Receiver<Job>,
    shutdown: Shutdown,
) {
    let mut batch = Vec::with_capacity(MAX_JOBS);
    let closing = async {
        shutdown.begun().await;
        // Sockets may still mark read or moderate until they are closed.
        shutdown.sockets().wait().await;
    };
    tokio::pin!(closing);
    let mut closed = false;
    loop {
        tokio::select! {
            n = jobs.recv_many(&mut batch, MAX_JOBS) => {
                if n == 0 {
                    return;
                }
                store(&pool, &*layer, std::mem::take(&mut batch)).await;
            }
            _ = &mut closing, if !closed => {
                // Refuses new jobs; the loop drains the queue, then ends.
                jobs.close();
                closed = true;
            }
        }
    }
}

async fn store(pool: &sqlx::PgPool, layer: &dyn ChannelLayer, jobs: Vec<Job>) {
    for (schema, jobs) in runs_by_key(jobs, |j| &j.schema) {
        let count: usize = jobs.iter().map(recipient_count).sum();
        match store_tenant(pool, &schema, jobs).await {
            Ok(stored) => {
                metrics::counter!("stampede_notifications_stored_total")
                    .increment(stored.len() as u64);
                metrics::histogram!("stampede_notification_batch_rows").record(stored.len() as f64);
                publish(pool, layer, &schema, stored).await;
            }
            Err(err) => {
                tracing::error!(error = %err, schema = %schema, notifications = count,
                    "notifications could not be stored; dropped");
                metrics::counter!("stampede_notifications_dropped_total", "reason" => "store_failed")
                    .increment(count as u64);
            }
        }
    }
}

fn recipient_count(job: &Job) -> usize {
    match &job.recipients {
        Recipients::Users(ids) => ids.len(),
        Recipients::Tenant => 1,
    }
}

/// Stores one tenant's jobs; returns each stored notification with its user.
async fn store_tenant(
    pool: &sqlx::PgPool,
    schema: &SchemaName,
    jobs: Vec<Job>,
) -> Result<Vec<(i32, Notification)>, StoreError> {
    let mut rows = Vec::new();
    let mut stored = Vec::new();
    for job in jobs {
        match job.recipients {
            Recipients::Users(ids) => {
                rows.extend(ids.into_iter().map(|id| job.notification.row_for(id)))
            }
            Recipients::Tenant => {
                let row = job.notification.row_for(0);
                stored.extend(notifications::insert_for_all(pool, schema, &row).await?);
            }
        }
    }
    for chunk in rows.chunks(MAX_ROWS) {
        stored.extend(notifications::insert_rows(pool, schema, chunk).await?);
    }
    Ok(stored)
}

/// Publishes stored notifications with each user's unread count, in chunks
/// of [`MAX_ITEMS`].
pub(super) async fn publish(
    pool: &sqlx::PgPool,
    layer: &dyn ChannelLayer,
    schema: &SchemaName,
    stored: Vec<(i32, Notification)>,
) {
    if stored.is_empty() {
        return;
    }
    let items = match with_unread(pool, schema, stored).await {
        Ok(items) => items,
        Err(err) => {
            // Stored all the same: devices see them at their next sync.
            tracing::warn!(error = %err, "unread counts unavailable; notifications not pushed");
            return;
        }
    };
    let group = event::group(schema.as_str());
    for chunk in items.chunks(MAX_ITEMS) {
        let event = Event::New {
            items: chunk.to_vec(),
        };
        layer.publish(&group, event.encode());
    }
}

/// Adds each user's unread count (counted after the insert).
pub(super) async fn with_unread(
    pool: &sqlx::PgPool,
    schema: &SchemaName,
    stored: Vec<(i32, Notification)>,
) -> Result<Vec<Delivered>, StoreError> {
    let users: Vec<i32> = stored
        .iter()
        .map(|(u, _)| *u)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let unread = notifications::unread_counts(pool, schema, &users).await?;
    Ok(stored
        .into_iter()
        .map(|(user_id, notification)| Delivered {
            user_id,
            unread: unread.get(&user_id).copied().unwrap_or(0),
            notification,
        })
        .collect())
}
