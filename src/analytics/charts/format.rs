//! Number formatting for coordinates, tick labels and tooltips.

/// A coordinate rounded to one decimal, without a trailing ".0".
pub(super) fn fmt_coord(v: f64) -> String {
    let r = round1(v);
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

pub(super) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A tick label: compact (`1.5k`, `2M`) and with only as many decimals as the step needs.
pub(super) fn fmt_tick(v: f64, step: f64) -> String {
    let (div, suffix) = if v.abs() >= 1e6 {
        (1e6, "M")
    } else if v.abs() >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let scaled_step = step / div;
    let decimals = if scaled_step >= 1.0 {
        0
    } else {
        ((-scaled_step.log10() - 1e-9).ceil() as usize).min(6)
    };
    let mut s = format!("{:.*}", decimals, v / div);
    if s.contains('.') {
        s.truncate(s.trim_end_matches('0').trim_end_matches('.').len());
    }
    s.push_str(suffix);
    s
}

/// A data value for tooltips: whole numbers as integers, otherwise up to two decimals.
pub(super) fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}
