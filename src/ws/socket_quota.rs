//! Open chat sockets per user per tenant on this node. Each socket costs
//! memory and a task; without a cap one account could open thousands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Counts per (tenant, user).
#[derive(Default, Clone)]
pub struct SocketQuota {
    open: Arc<Mutex<HashMap<(i32, i32), usize>>>,
}

/// One counted socket; the count drops with it.
pub struct SocketSlot {
    quota: SocketQuota,
    key: (i32, i32),
}

impl SocketQuota {
    /// A slot if the user holds fewer than `max` sockets of the tenant.
    pub fn acquire(&self, tenant_id: i32, user_id: i32, max: usize) -> Option<SocketSlot> {
        let key = (tenant_id, user_id);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            quota: self.clone(),
            key,
        })
    }

    /// Sockets the user holds now.
    pub fn count(&self, tenant_id: i32, user_id: i32) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&(tenant_id, user_id)).copied().unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.quota.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_user_and_tenant_and_come_back() {
        let quota = SocketQuota::default();
        let a: Vec<_> = (0..2).map(|_| quota.acquire(1, 7, 2).unwrap()).collect();
        assert!(quota.acquire(1, 7, 2).is_none());
        assert!(quota.acquire(2, 7, 2).is_some(), "another tenant");
        assert!(quota.acquire(1, 8, 2).is_some(), "another user");
        drop(a);
        assert_eq!(quota.count(1, 7), 0);
        assert!(quota.open.lock().unwrap().is_empty());
        assert!(quota.acquire(1, 7, 2).is_some());
    }
}
