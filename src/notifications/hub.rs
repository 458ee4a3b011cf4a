//! The node's registry of notification devices by (tenant, user), and its
//! one subscription per tenant to the tenant's notification group
//! ([`super::event::group`]).
//!
//! A tenant's subscription starts with its first device on this node and
//! ends with its last. Every event of the group reaches this node; those for
//! users without a device here are dropped with one lookup (see
//! `event.rs` for why one group per tenant).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::device::Device;
use super::event::{self, Event};
use crate::channel_layer::{ChannelLayer, LayerStatus, RecvError};
use crate::room::Close;
use crate::shutdown::Shutdown;
use crate::tenant::{SchemaName, Tenant};

/// Longest wait for the broker to confirm a tenant's subscription before a
/// device syncs anyway (the broker may be down; local delivery still works).
const READY_WAIT: Duration = Duration::from_secs(2);
/// How often the hub looks at the channel layer's state.
const LAYER_CHECK: Duration = Duration::from_secs(1);

/// One registered device.
struct Held {
    id: u64,
    device: Arc<Device>,
    /// When it registered, and whether events from other nodes reached
    /// this node then (for the resync after an outage).
    since: Instant,
    connected: bool,
}

struct TenantDevices {
    schema: SchemaName,
    users: HashMap<i32, Vec<Held>>,
    /// True once the subscription reaches events published anywhere.
    ready: watch::Receiver<bool>,
    listener: AbortHandle,
}

#[derive(Default)]
struct Inner {
    tenants: HashMap<i32, TenantDevices>,
    next_id: u64,
    /// Shutdown began: devices registering now are closed at once.
    closing: bool,
}

/// Devices on this node; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Mutex<Inner>>,
    layer: Arc<dyn ChannelLayer>,
}

/// Keeps a device registered until dropped.
pub struct Registration {
    inner: Weak<Mutex<Inner>>,
    tenant_id: i32,
    user_id: i32,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let mut inner = lock(&inner);
        let Some(tenant) = inner.tenants.get_mut(&self.tenant_id) else {
            return;
        };
        if let Some(list) = tenant.users.get_mut(&self.user_id) {
            list.retain(|held| held.id != self.id);
            if list.is_empty() {
                tenant.users.remove(&self.user_id);
            }
        }
        if tenant.users.is_empty() {
            if let Some(tenant) = inner.tenants.remove(&self.tenant_id) {
                // Dropping the task's subscription unsubscribes the node.
                tenant.listener.abort();
            }
        }
    }
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    /// A hub that closes every device (1001) when shutdown begins.
    pub fn new(layer: Arc<dyn ChannelLayer>, shutdown: &Shutdown) -> Self {
        let hub = Self {
            inner: Arc::default(),
            layer,
        };
        let (watcher, shutdown) = (hub.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = watcher.resync_after_outages() => {}
                _ = shutdown.begun() => {}
            }
            lock(&watcher.inner).closing = true;
            watcher.close_where(|_| true, Close::going_away());
        });
        hub
    }

    /// Events published on other nodes while the broker was unreachable
    /// never arrive here, so when it is back every device that may have
    /// missed some reconnects (4408) and its sync, read from the database,
    /// brings them: those registered before the last moment the layer was
    /// seen down, or while it was down. Devices that registered after it
    /// came back missed nothing and stay.
    async fn resync_after_outages(&self) {
        let mut tick = tokio::time::interval(LAYER_CHECK);
        let mut last_down: Option<Instant> = None;
        loop {
            tick.tick().await;
            match self.layer.status() {
                LayerStatus::Degraded => last_down = Some(Instant::now()),
                LayerStatus::Connected => {
                    if let Some(down) = last_down.take() {
                        let closed = self.close_held(|h| h.since <= down || !h.connected);
                        tracing::info!(
                            devices = closed,
                            "channel layer back: notification devices resync"
                        );
                    }
                }
                LayerStatus::Local => {}
            }
        }
    }

    /// Closes the devices for which `which` holds (4408); returns how many.
    fn close_held(&self, which: impl Fn(&Held) -> bool) -> usize {
        let inner = lock(&self.inner);
        let mut closed = 0;
        for held in inner
            .tenants
            .values()
            .flat_map(|t| t.users.values())
            .flatten()
        {
            if which(held) {
                held.device.close(Close::lagging());
                closed += 1;
            }
        }
        closed
    }

    /// Registers `device` of `user_id`; the receiver turns true once events
    /// published on any node reach it (wait with [`wait_ready`]).
    pub fn register(
        &self,
        tenant: &Tenant,
        user_id: i32,
        device: Arc<Device>,
    ) -> (Registration, watch::Receiver<bool>) {
        let mut inner = lock(&self.inner);
        if inner.closing {
            device.close(Close::going_away());
        }
        inner.next_id += 1;
        let id = inner.next_id;
        let entry = match inner.tenants.entry(tenant.id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let (listener, ready) = self.listen(tenant);
                e.insert(TenantDevices {
                    schema: tenant.schema.clone(),
                    users: HashMap::new(),
                    ready,
                    listener,
                })
            }
        };
        let held = Held {
            id,
            device,
            since: Instant::now(),
            connected: self.layer.status() != LayerStatus::Degraded,
        };
        entry.users.entry(user_id).or_default().push(held);
        let ready = entry.ready.clone();
        let registration = Registration {
            inner: Arc::downgrade(&self.inner),
            tenant_id: tenant.id,
            user_id,
            id,
        };
        (registration, ready)
    }

    /// Subscribes to the tenant's group and hands its events to the devices.
    fn listen(&self, tenant: &Tenant) -> (AbortHandle, watch::Receiver<bool>) {
        let mut subscription = self.layer.subscribe(&event::group(tenant.schema.as_str()));
        let (ready_tx, ready) = watch::channel(false);
        let (inner, tenant_id) = (Arc::downgrade(&self.inner), tenant.id);
        let task = tokio::spawn(async move {
            subscription.ready(READY_WAIT).await;
            let _ = ready_tx.send(true);
            loop {
                let received = subscription.recv().await;
                let Some(inner) = inner.upgrade() else {
                    return;
                };
                match received {
                    Ok(delivery) => match Event::decode(&delivery.payload) {
                        Ok(event) => dispatch(&inner, tenant_id, &event),
                        Err(err) => tracing::warn!(error = %err, "malformed notification event"),
                    },
                    Err(RecvError::Lagged(n)) => {
                        // Events were lost for this node: its devices reconnect and sync.
                        tracing::warn!(missed = n, "notification events lagged");
                        close_tenant(&inner, tenant_id, Close::lagging());
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        (task.abort_handle(), ready)
    }

    /// Hands `event` to this node's devices of its user(s); for events that
    /// every node learns of on its own (stream starts), not through the group.
    pub fn dispatch_local(&self, tenant_id: i32, event: &Event) {
        dispatch(&self.inner, tenant_id, event);
    }

    /// The tenant's schema and its users with a device here.
    pub fn local_users(&self, tenant_id: i32) -> Option<(SchemaName, Vec<i32>)> {
        let inner = lock(&self.inner);
        let tenant = inner.tenants.get(&tenant_id)?;
        Some((
            tenant.schema.clone(),
            tenant.users.keys().copied().collect(),
        ))
    }

    /// Closes every device of tenants for which `which` holds.
    pub fn close_where(&self, which: impl Fn(i32) -> bool, close: Close) {
        let inner = lock(&self.inner);
        for (tenant_id, tenant) in &inner.tenants {
            if which(*tenant_id) {
                for held in tenant.users.values().flatten() {
                    held.device.close(close.clone());
                }
            }
        }
    }

    /// Devices registered on this node.
    pub fn devices(&self) -> usize {
        let inner = lock(&self.inner);
        inner
            .tenants
            .values()
            .flat_map(|t| t.users.values())
            .map(Vec::len)
            .sum()
    }
}

/// Waits (bounded) until the tenant's subscription is confirmed.
pub async fn wait_ready(ready: &mut watch::Receiver<bool>) {
    let _ = tokio::time::timeout(READY_WAIT * 2, ready.wait_for(|ok| *ok)).await;
}

fn dispatch(inner: &Mutex<Inner>, tenant_id: i32, event: &Event) {
    let inner = lock(inner);
    let Some(tenant) = inner.tenants.get(&tenant_id) else {
        return;
    };
    match event {
        Event::New { items } => {
            for item in items {
                for held in tenant.users.get(&item.user_id).into_iter().flatten() {
                    held.device.offer(item);
                }
            }
        }
        Event::Read {
            user_id,
            ids,
            unread,
        } => {
            for held in tenant.users.get(user_id).into_iter().flatten() {
                held.device.read(ids, *unread);
            }
        }
    }
}

fn close_tenant(inner: &Mutex<Inner>, tenant_id: i32, close: Close) {
    let inner = lock(inner);
    if let Some(tenant) = inner.tenants.get(&tenant_id) {
        for held in tenant.users.values().flatten() {
            held.device.close(close.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel_layer::MemoryLayer;
    use crate::notifications::event::Delivered;
    use crate::notifications::frames;
    use crate::room::outbox::{Outbox, Work};
    use crate::store::notifications::Notification;

    fn tenant(id: i32, schema: &str) -> Tenant {
        Tenant {
            id,
            name: schema.into(),
            schema: SchemaName::parse(schema).unwrap(),
        }
    }

    fn note(id: i64) -> Notification {
        Notification {
            id,
            kind_type: "info".into(),
            kind: "system".into(),
            title: "t".into(),
            body: String::new(),
            link: None,
            read_at: None,
            created_at: "2026-12-03T00:00:00Z".into(),
        }
    }

    async fn drain(outbox: &Outbox) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let work =
            tokio::time::timeout(Duration::from_secs(5), outbox.work(|| false, &mut out, 64))
                .await
                .expect("a frame");
        assert!(matches!(work, Work::Direct));
        out.iter()
            .map(|f| serde_json::from_str(f.as_str()).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn events_reach_only_their_users_devices_after_the_sync() {
        let layer: Arc<dyn ChannelLayer> = Arc::new(MemoryLayer::new());
        let hub = Hub::new(layer.clone(), &Shutdown::new());
        let acme = tenant(1, "acme");
        let outbox = Arc::new(Outbox::new(16));
        let device = Arc::new(Device::new(outbox.clone(), Duration::from_secs(1)));
        let (registration, mut ready) = hub.register(&acme, 10, device.clone());
        let other = Arc::new(Outbox::new(16));
        let (_other, _) = hub.register(
            &acme,
            11,
            Arc::new(Device::new(other.clone(), Duration::from_secs(1))),
        );
        wait_ready(&mut ready).await;
        device.begin_sync();
        let item = |id| Delivered {
            user_id: 10,
            unread: id,
            notification: note(id),
        };
        layer.publish(
            &event::group("acme"),
            Event::New {
                items: vec![item(1)],
            }
            .encode(),
        );
        // Published during the read: held behind the gate. (The hub's
        // listener task runs on this test's thread once it yields.)
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        device.finish_sync(frames::sync(0, &[]));
        let got = drain(&outbox).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0]["type"], "notification.sync");
        assert_eq!(got[1]["type"], "notification.new");
        assert_eq!(got[1]["notification"]["id"], 1);
        layer.publish(
            &event::group("acme"),
            Event::Read {
                user_id: 10,
                ids: vec![1],
                unread: 0,
            }
            .encode(),
        );
        let got = drain(&outbox).await;
        assert_eq!(got[0]["type"], "notification.read");
        let probe = axum::extract::ws::Utf8Bytes::from_static("{\"probe\":1}");
        assert!(other.send(probe));
        assert_eq!(
            drain(&other).await[0]["probe"],
            1,
            "nothing for user 11 before"
        );
        assert_eq!(hub.devices(), 2);
        drop(registration);
        assert_eq!(hub.devices(), 1);
        assert_eq!(hub.local_users(1).unwrap().1, vec![11]);
    }
}
