//! Bounds password hashing. One argon2 computation holds ~19 MiB and a core
//! for tens of milliseconds; unbounded, a login flood grows memory with the
//! blocking pool (512 threads) and starves everything else. At most
//! `concurrent` run at once, at most `queue` more wait, and the rest are
//! refused at once so a client can retry later. One client address may hold
//! at most a quarter of the places (running or queued; at least two), so a
//! flood from one address cannot fill the queue against everyone else,
//! while an office behind one address can still log in at the same moment.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::login_throttle::AddrKey;
use crate::quota::{Quota, Slot};

/// The queue is full: try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("too many logins in progress")]
pub struct Busy;

/// Admission to the hashing slots.
pub struct HashGate {
    slots: Arc<Semaphore>,
    per_address: Quota<AddrKey>,
    /// Places (running or queued) one client address may hold.
    address_share: usize,
    /// Holders of a slot plus those waiting for one.
    admitted: AtomicUsize,
    capacity: usize,
}

/// A slot: hashing may run while it is held.
pub struct HashSlot<'a> {
    gate: &'a HashGate,
    _permit: OwnedSemaphorePermit,
    _address: Slot<AddrKey>,
}

impl Drop for HashSlot<'_> {
    fn drop(&mut self) {
        self.gate.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Releases a queue place if the wait is abandoned (the client went away).
struct Place<'a>(&'a HashGate);

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashGate {
    pub fn new(concurrent: usize, queue: usize) -> Self {
        let concurrent = concurrent.max(1);
        Self {
            slots: Arc::new(Semaphore::new(concurrent)),
            per_address: Quota::default(),
            address_share: ((concurrent + queue) / 4).max(2),
            admitted: AtomicUsize::new(0),
            capacity: concurrent + queue,
        }
    }

    /// Waits for a slot, or fails at once with [`Busy`] when the queue is
    /// full or `client` already holds its share.
    pub async fn enter(&self, client: std::net::IpAddr) -> Result<HashSlot<'_>, Busy> {
        let address = self
            .per_address
            .acquire(AddrKey::from(client), self.address_share)
            .ok_or(Busy)?;
        let taken = self
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(Busy);
        }
        let place = Place(self);
        let permit = self.slots.clone().acquire_owned().await.map_err(|_| Busy)?;
        std::mem::forget(place);
        Ok(HashSlot {
            gate: self,
            _permit: permit,
            _address: address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[tokio::test]
    async fn past_the_queue_logins_are_refused_and_places_come_back() {
        let gate = HashGate::new(1, 1);
        let running = gate.enter(ip(1)).await.expect("a free slot");
        let waiting = {
            let gate = &gate;
            async move { gate.enter(ip(2)).await.map(drop) }
        };
        tokio::pin!(waiting);
        // The second waits in the queue...
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        // ...and the third finds the queue full.
        assert!(gate.enter(ip(3)).await.is_err());
        drop(running);
        waiting.await.expect("the queued login gets the slot");
        // Everyone left: the full capacity is free again.
        let a = gate.enter(ip(4)).await.expect("slot");
        let b = async { gate.enter(ip(5)).await.map(drop) };
        tokio::pin!(b);
        assert!(futures_util::poll!(b.as_mut()).is_pending());
        drop(a);
        b.await.expect("queued");
    }

    #[tokio::test]
    async fn one_address_holds_at_most_its_share() {
        let gate = HashGate::new(1, 7); // a share of 2
        let first = gate.enter(ip(1)).await.expect("slot");
        let second = async { gate.enter(ip(1)).await.map(drop) };
        tokio::pin!(second);
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        assert!(
            gate.enter(ip(1)).await.is_err(),
            "a third place for one address"
        );
        let other = async { gate.enter(ip(2)).await.map(drop) };
        tokio::pin!(other);
        assert!(
            futures_util::poll!(other.as_mut()).is_pending(),
            "others still queue"
        );
        drop(first);
    }

    #[tokio::test]
    async fn an_abandoned_wait_gives_its_place_back() {
        let gate = HashGate::new(1, 1);
        let running = gate.enter(ip(6)).await.expect("slot");
        {
            let waiting = gate.enter(ip(7));
            tokio::pin!(waiting);
            assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        }
        let again = async { gate.enter(ip(8)).await.map(drop) };
        tokio::pin!(again);
        assert!(
            futures_util::poll!(again.as_mut()).is_pending(),
            "queued, not refused"
        );
        drop(running);
        again.await.expect("slot");
    }
}
