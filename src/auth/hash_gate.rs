//! Bounds password hashing. One argon2 computation holds ~19 MiB and a core
//! for tens of milliseconds; unbounded, a login flood grows memory with the
//! blocking pool (512 threads) and starves everything else. At most
//! `concurrent` run at once, at most `queue` more wait, and the rest are
//! refused at once so a client can retry later.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The queue is full: try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("too many logins in progress")]
pub struct Busy;

/// Admission to the hashing slots.
pub struct HashGate {
    slots: Arc<Semaphore>,
    /// Holders of a slot plus those waiting for one.
    admitted: AtomicUsize,
    capacity: usize,
}

/// A slot: hashing may run while it is held.
pub struct HashSlot<'a> {
    gate: &'a HashGate,
    _permit: OwnedSemaphorePermit,
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
            admitted: AtomicUsize::new(0),
            capacity: concurrent + queue,
        }
    }

    /// Waits for a slot, or fails at once with [`Busy`] when the queue is full.
    pub async fn enter(&self) -> Result<HashSlot<'_>, Busy> {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_queue_logins_are_refused_and_places_come_back() {
        let gate = HashGate::new(1, 1);
        let running = gate.enter().await.expect("a free slot");
        let waiting = {
            let gate = &gate;
            async move { gate.enter().await.map(drop) }
        };
        tokio::pin!(waiting);
        // The second waits in the queue...
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        // ...and the third finds the queue full.
        assert!(gate.enter().await.is_err());
        drop(running);
        waiting.await.expect("the queued login gets the slot");
        // Everyone left: the full capacity is free again.
        let a = gate.enter().await.expect("slot");
        let b = async { gate.enter().await.map(drop) };
        tokio::pin!(b);
        assert!(futures_util::poll!(b.as_mut()).is_pending());
        drop(a);
        b.await.expect("queued");
    }

    #[tokio::test]
    async fn an_abandoned_wait_gives_its_place_back() {
        let gate = HashGate::new(1, 1);
        let running = gate.enter().await.expect("slot");
        {
            let waiting = gate.enter();
            tokio::pin!(waiting);
            assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        }
        let again = async { gate.enter().await.map(drop) };
        tokio::pin!(again);
        assert!(
            futures_util::poll!(again.as_mut()).is_pending(),
            "queued, not refused"
        );
        drop(running);
        again.await.expect("slot");
    }
}
