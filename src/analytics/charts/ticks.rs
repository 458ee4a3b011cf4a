//! Axis ticks: round values for the y axis, round times for the x axis.

/// Round axis ticks from 0 up to the first tick at or above `max`, stepping
/// by 1, 2 or 5 × 10^n: the largest such step that still gives at least 3
/// intervals, so 4–5 ticks (6 when `max` sits just under a power of ten,
/// e.g. 0, 2, …, 10). A non-positive or non-finite `max` is treated as 1.
pub(super) fn nice_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max.clamp(1e-6, 1e15)
    } else {
        1.0
    };
    // mantissa × 10^exp, dividing for negative exponents so 0.1-steps stay exact-ish.
    let value = |mantissa: i64, exp: i32| {
        if exp >= 0 {
            mantissa as f64 * 10f64.powi(exp)
        } else {
            mantissa as f64 / 10f64.powi(-exp)
        }
    };
    let intervals = |step: f64| ((max / step - 1e-9).ceil() as i64).max(1);

    // Start at or below max / 5, then climb 1 → 2 → 5 → 10 while ≥ 3 intervals remain.
    let (mut mantissa, mut exp) = (1, (max / 5.0).log10().floor() as i32);
    loop {
        let (m, e) = match mantissa {
            1 => (2, exp),
            2 => (5, exp),
            _ => (1, exp + 1),
        };
        if intervals(value(m, e)) < 3 {
            break;
        }
        (mantissa, exp) = (m, e);
    }
    let n = intervals(value(mantissa, exp));
    (0..=n).map(|i| value(i * mantissa, exp)).collect()
}

/// Round times (multiples of 1, 2, 5, 10, 15, 30 minutes or 1, 2, 3, 6, 12 hours,
/// or whole days) inside `[t0, t1]`, at most `max_labels` (≥ 2) of them.
/// Falls back to the two ends when the span is shorter than a minute.
pub(super) fn time_ticks(t0: i64, t1: i64, max_labels: usize) -> Vec<i64> {
    const STEPS: [i64; 12] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    ];
    let span = t1 - t0;
    let max_labels = max_labels.max(2);
    let limit = max_labels as i64 - 1;
    let step = STEPS
        .iter()
        .copied()
        .find(|&s| span / s <= limit)
        .unwrap_or_else(|| 86_400 * ((span / 86_400 + limit - 1) / limit).max(1));
    let first = t0.div_euclid(step) * step + if t0.rem_euclid(step) == 0 { 0 } else { step };
    let ticks: Vec<i64> = (0..)
        .map(|k| first + k * step)
        .take_while(|&t| t <= t1)
        .take(max_labels)
        .collect();
    if ticks.is_empty() {
        vec![t0, t1]
    } else {
        ticks
    }
}
