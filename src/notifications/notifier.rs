//! The producers' API: [`Notifier::notify`] (some users),
//! [`Notifier::notify_tenant`] (everyone), and [`Notifier::mark_read`],
//! which every device of the user hears of, on every node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc::{self, error::TrySendError};

use super::event::{self, Event};
use super::writer::{self, Job, Recipients};
use super::NewNotification;
use crate::channel_layer::ChannelLayer;
use crate::shutdown::Shutdown;
use crate::store::notifications::{self, MarkedRead};
use crate::store::StoreError;
use crate::tenant::{SchemaName, Tenant};

/// Why a notification was not queued. Producers on the chat path ignore it
/// (it is counted and logged here); the admin API answers 503.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("the notification queue is full; nothing was stored")]
    Overloaded,
    #[error("the server is shutting down; nothing was stored")]
    Closed,
}

/// Queues and publishes notifications; cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    jobs: mpsc::Sender<Job>,
    pool: sqlx::PgPool,
    layer: Arc<dyn ChannelLayer>,
    /// Second (since 1970) of the last "dropped" log line, so a flood of
    /// refusals logs one line a second rather than one per refusal.
    last_drop_log: Arc<AtomicU64>,
}

impl Notifier {
    /// Starts the batching writer (tracked as a writer: it stores what
    /// queued before the process exits) with a queue of `queue` jobs.
    pub fn start(
        pool: sqlx::PgPool,
        layer: Arc<dyn ChannelLayer>,
        queue: usize,
        shutdown: &Shutdown,
    ) -> Self {
        let (jobs, rx) = mpsc::channel(queue.max(1));
        shutdown.writers().spawn(writer::run(
            pool.clone(),
            layer.clone(),
            rx,
            shutdown.clone(),
        ));
        Self {
            jobs,
            pool,
            layer,
            last_drop_log: Arc::default(),
        }
    }

    /// Queues `notification` for `user_ids` of `tenant` and returns at once.
    /// Skipped: the sender (`sent_by`) and ids that are not users; recipients
    /// who blocked the sender are skipped when it is stored.
    ///
    /// This is what chat code calls for `mention` and `reply`:
    /// `notifier.notify(&tenant, &[mentioned], NewNotification::new(Kind::Mention,
    /// NotificationType::Info, "alice mentioned you", excerpt, Some(link))?.sent_by(alice_id))`.
    pub fn notify(
        &self,
        tenant: &Tenant,
        user_ids: &[i32],
        notification: NewNotification,
    ) -> Result<(), NotifyError> {
        self.notify_in(&tenant.schema, user_ids, notification)
    }

    /// [`Notifier::notify`] for code that knows the tenant by its schema
    /// (a room's chat writer).
    pub fn notify_in(
        &self,
        schema: &SchemaName,
        user_ids: &[i32],
        notification: NewNotification,
    ) -> Result<(), NotifyError> {
        let mut ids: Vec<i32> = user_ids
            .iter()
            .copied()
            .filter(|id| *id > 0 && Some(*id) != notification.sender_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        self.queue(schema, Recipients::Users(ids), notification)
    }

    /// Queues `notification` for every active user of `tenant`.
    pub fn notify_tenant(
        &self,
        tenant: &Tenant,
        notification: NewNotification,
    ) -> Result<(), NotifyError> {
        self.queue(&tenant.schema, Recipients::Tenant, notification)
    }

    fn queue(
        &self,
        schema: &SchemaName,
        recipients: Recipients,
        notification: NewNotification,
    ) -> Result<(), NotifyError> {
        let job = Job {
            schema: schema.clone(),
            recipients,
            notification,
        };
        let (reason, err) = match self.jobs.try_send(job) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(_)) => ("queue_full", NotifyError::Overloaded),
            Err(TrySendError::Closed(_)) => ("closed", NotifyError::Closed),
        };
        metrics::counter!("stampede_notifications_dropped_total", "reason" => reason).increment(1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        if self.last_drop_log.swap(now, Ordering::Relaxed) != now {
            tracing::warn!(
                tenant = %schema,
                reason,
                "notification dropped (see stampede_notifications_dropped_total)"
            );
        }
        Err(err)
    }

    /// Marks the user's notifications `ids` read (every unread one when
    /// `None`) and tells all of the user's devices, on every node, when
    /// anything changed.
    pub async fn mark_read(
        &self,
        tenant: &Tenant,
        user_id: i32,
        ids: Option<&[i64]>,
    ) -> Result<MarkedRead, StoreError> {
        let marked = notifications::mark_read(&self.pool, &tenant.schema, user_id, ids).await?;
        if !marked.ids.is_empty() {
            let event = Event::Read {
                user_id,
                ids: marked.ids.clone(),
                unread: marked.unread,
            };
            self.layer
                .publish(&event::group(tenant.schema.as_str()), event.encode());
        }
        Ok(marked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel_layer::MemoryLayer;
    use crate::notifications::{Kind, NotificationType};
    use crate::tenant::SchemaName;

    fn tenant() -> Tenant {
        Tenant {
            id: 1,
            name: "acme".into(),
            schema: SchemaName::parse("acme").unwrap(),
        }
    }

    fn mention(sender: i32) -> NewNotification {
        NewNotification::new(Kind::Mention, NotificationType::Info, "hi", "", None)
            .unwrap()
            .sent_by(sender)
    }

    /// A producer on the chat path must never wait: past the queue's bound
    /// the notification is refused at once (and counted).
    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        // Never reached: the writer's first batch fails, nothing else does.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap();
        let notifier = Notifier::start(pool, Arc::new(MemoryLayer::new()), 1, &Shutdown::new());
        // The writer cannot run between these calls (one-thread runtime,
        // no await), so the second finds the queue full.
        assert_eq!(notifier.notify(&tenant(), &[2], mention(1)), Ok(()));
        assert_eq!(
            notifier.notify(&tenant(), &[3], mention(1)),
            Err(NotifyError::Overloaded)
        );
        // Nothing to queue: the sender alone, or no user at all.
        assert_eq!(notifier.notify(&tenant(), &[1, 0, -4], mention(1)), Ok(()));
    }
}
