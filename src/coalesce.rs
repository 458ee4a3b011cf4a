//! Work that is cheaper in bulk: a Postgres statement costs about the same
//! for one row as for fifty. Callers queue jobs and await their answers; each
//! of a few workers takes every job queued while it was busy and handles them
//! together. An idle worker takes a lone job at once, so a quiet node pays no
//! batching delay, and under load the batches grow with the load.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

/// The workers are gone (the runtime is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("batch workers stopped")]
pub struct Stopped;

/// A queue of jobs of type `J` served by batch workers; cheap to clone. The
/// workers stop when the last clone is dropped.
pub struct Coalescer<J> {
    tx: mpsc::Sender<J>,
}

impl<J> Clone for Coalescer<J> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<J: Send + 'static> Coalescer<J> {
    /// Spawns `workers` tasks on the current runtime; each hands batches of
    /// at most `max_batch` jobs to `handle`. At most `queue` jobs wait.
    pub fn start<F, Fut>(workers: usize, queue: usize, max_batch: usize, handle: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (tx, rx) = mpsc::channel(queue);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..workers {
            let rx = rx.clone();
            let handle = handle.clone();
            tokio::spawn(async move {
                loop {
                    let mut jobs = Vec::with_capacity(max_batch);
                    // One idle worker waits on the queue, the others on the
                    // lock; a worker back from a batch takes what queued meanwhile.
                    if rx.lock().await.recv_many(&mut jobs, max_batch).await == 0 {
                        return;
                    }
                    handle(jobs).await;
                }
            });
        }
        Self { tx }
    }

    /// Queues the job `make` builds around a reply channel and waits for the
    /// worker's answer.
    pub async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> J) -> Result<T, Stopped> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }
}

/// Splits `jobs` into runs that share a key (e.g. a tenant's schema), each
/// with its key, for handlers whose statement can only cover one key.
pub fn runs_by_key<J, K: Ord + Clone>(
    mut jobs: Vec<J>,
    key: impl Fn(&J) -> &K,
) -> Vec<(K, Vec<J>)> {
    jobs.sort_by(|a, b| key(a).cmp(key(b)));
    let mut runs: Vec<(K, Vec<J>)> = Vec::new();
    for job in jobs {
        match runs.last_mut() {
            Some((k, run)) if k == key(&job) => run.push(job),
            _ => runs.push((key(&job).clone(), vec![job])),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_queued_while_a_worker_is_busy_are_handled_together() {
        let (seen_tx, mut seen) = mpsc::unbounded_channel::<usize>();
        let (gate_tx, gate) = tokio::sync::watch::channel(false);
        type Job = (u32, oneshot::Sender<u32>);
        let c = Coalescer::<Job>::start(1, 64, 64, move |jobs: Vec<Job>| {
            let seen_tx = seen_tx.clone();
            let mut gate = gate.clone();
            async move {
                let _ = seen_tx.send(jobs.len());
                // Hold the first batch until every other job is queued.
                let _ = gate.wait_for(|open| *open).await;
                for (n, reply) in jobs {
                    let _ = reply.send(n * 2);
                }
            }
        });
        let first = tokio::spawn({
            let c = c.clone();
            async move { c.call(|r| (0, r)).await }
        });
        assert_eq!(seen.recv().await, Some(1), "a lone job goes at once");
        let rest: Vec<_> = (1..=5)
            .map(|n| {
                let c = c.clone();
                tokio::spawn(async move { c.call(|r| (n, r)).await })
            })
            .collect();
        // Wait until all five are queued behind the busy worker.
        while c.tx.capacity() > 64 - 5 {
            tokio::task::yield_now().await;
        }
        gate_tx.send_replace(true);
        assert_eq!(first.await.unwrap().unwrap(), 0);
        for (n, job) in (1..=5).zip(rest) {
            assert_eq!(job.await.unwrap().unwrap(), n * 2);
        }
        assert_eq!(seen.recv().await, Some(5), "the queued jobs form one batch");
    }

    #[test]
    fn runs_share_a_key() {
        let runs = runs_by_key(vec![("b", 1), ("a", 2), ("b", 3)], |j| &j.0);
        assert_eq!(
            runs,
            vec![("a", vec![("a", 2)]), ("b", vec![("b", 1), ("b", 3)])]
        );
    }
}
