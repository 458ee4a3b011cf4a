//! The node's registry of notification devices by (tenant, user), and its
//! one subscription per tenant to the tenant's notification group
//! ([`super::event::group`]).
//!
//! A tenant's subscription starts with its first device on this node and
//! ends with its last. Every event of the group reaches this node; those for
//! users without a device here are dropped with one lookup (see
//! `event.rs` for why one group per tenant).

mod outage;
#[cfg(test)]
mod tests;

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
            watcher.close_all(Close::going_away());
        });
        hub
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

    /// Closes every device on this node.
    pub fn close_all(&self, close: Close) {
        let inner = lock(&self.inner);
        for held in inner
            .tenants
            .values()
            .flat_map(|t| t.users.values())
            .flatten()
        {
            held.device.close(close.clone());
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
