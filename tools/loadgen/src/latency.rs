//! Latency percentiles: one HDR histogram (microseconds, three significant
//! digits) for the whole run, which every client feeds in batches. Memory
//! stays bounded however many frames arrive, and the lock is taken once per
//! batch, not once per frame.

use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;

use crate::lock;

/// Samples a client keeps before adding them to the shared histogram.
const BATCH: usize = 256;
/// Latencies above an hour are recorded as an hour.
const MAX_US: u64 = 3_600_000_000;

/// The run's histogram.
#[derive(Clone)]
pub struct Latencies(Arc<Mutex<Histogram<u64>>>);

impl Latencies {
    pub fn new() -> Self {
        let histogram = Histogram::new_with_max(MAX_US, 3).expect("1 µs..1 h at 3 digits is valid");
        Latencies(Arc::new(Mutex::new(histogram)))
    }

    /// A client's batch, feeding this histogram.
    pub fn batch(&self) -> Batch {
        Batch {
            shared: self.clone(),
            samples: Vec::new(),
        }
    }

    /// The `q` quantile (0.0..=1.0) in milliseconds; 0 when nothing was recorded.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        lock(&self.0).value_at_quantile(q) as f64 / 1000.0
    }
}

/// One client's samples not yet in the histogram.
pub struct Batch {
    shared: Latencies,
    samples: Vec<u64>,
}

impl Batch {
    pub fn record(&mut self, us: u64) {
        self.samples.push(us);
        if self.samples.len() >= BATCH {
            self.flush();
        }
    }

    /// Adds the samples kept so far to the histogram; a client calls it once
    /// more when it stops receiving.
    pub fn flush(&mut self) {
        if self.samples.is_empty() {
            return;
        }
        let mut histogram = lock(&self.shared.0);
        for us in self.samples.drain(..) {
            histogram.saturating_record(us);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_recorded_is_zero() {
        let latencies = Latencies::new();
        assert_eq!(latencies.quantile_ms(0.99), 0.0);
    }

    #[test]
    fn percentiles_of_flushed_batches_within_three_digits() {
        let latencies = Latencies::new();
        let (mut a, mut b) = (latencies.batch(), latencies.batch());
        // 1..=1000 ms, split over two clients, one of them past a batch.
        for ms in 1..=1000u64 {
            let batch = if ms % 3 == 0 { &mut a } else { &mut b };
            batch.record(ms * 1000);
        }
        a.flush();
        b.flush();
        for (q, want) in [(0.5, 500.0), (0.99, 990.0), (0.999, 999.0), (1.0, 1000.0)] {
            let got = latencies.quantile_ms(q);
            assert!(
                (got - want).abs() <= want * 1e-3,
                "p{q}: {got} ms, want {want}"
            );
        }
    }

    #[test]
    fn an_unflushed_batch_is_not_counted_yet() {
        let latencies = Latencies::new();
        let mut batch = latencies.batch();
        batch.record(5_000);
        assert_eq!(latencies.quantile_ms(0.5), 0.0);
        batch.flush();
        assert!((latencies.quantile_ms(0.5) - 5.0).abs() < 0.01);
    }
}
