//! A counting limit per key: at most `max` slots held per key at once, each
//! given back when dropped. Used for open connections per client address
//! and open chat sockets per user.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Counts per key; cheap to clone (clones share the counts).
pub struct Quota<K> {
    open: Arc<Mutex<HashMap<K, usize>>>,
}

impl<K> Clone for Quota<K> {
    fn clone(&self) -> Self {
        Self {
            open: self.open.clone(),
        }
    }
}

impl<K> Default for Quota<K> {
    fn default() -> Self {
        Self {
            open: Arc::default(),
        }
    }
}

/// One held slot; the count drops with it.
pub struct Slot<K: Hash + Eq> {
    open: Arc<Mutex<HashMap<K, usize>>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Quota<K> {
    /// A slot if fewer than `max` are held for `key`.
    pub fn acquire(&self, key: K, max: usize) -> Option<Slot<K>> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.open.clone(),
            key,
        })
    }

    /// Slots held for `key` now.
    pub fn count(&self, key: &K) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(key).copied().unwrap_or(0)
    }

    /// Keys with a slot held (empty keys are forgotten at once).
    pub fn keys(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl<K: Hash + Eq> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
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
    fn slots_are_capped_per_key_and_come_back() {
        let quota: Quota<(i32, i32)> = Quota::default();
        let held: Vec<_> = (0..2).map(|_| quota.acquire((1, 7), 2).unwrap()).collect();
        assert!(quota.acquire((1, 7), 2).is_none());
        assert!(quota.acquire((2, 7), 2).is_some(), "another key");
        assert_eq!(quota.count(&(1, 7)), 2);
        drop(held);
        assert_eq!(quota.count(&(1, 7)), 0);
        assert_eq!(quota.keys(), 0, "empty keys are forgotten");
        assert!(quota.acquire((1, 7), 2).is_some());
    }
}
