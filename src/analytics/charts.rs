//! Server-side SVG charts for the analytics dashboard.
//!
//! Everything here is plain string building with `std` only. Each chart is a
//! self-contained `<svg>` element (no scripts, no external stylesheets) drawn
//! for the dark dashboard theme, safe to inline into HTML or to serve as
//! `image/svg+xml`. The `viewBox` is fixed-width, so the chart scales to 100%
//! of its container. All caller-provided text goes through [`esc`].

use std::fmt::Write as _;

/// Width of every chart's `viewBox`.
const WIDTH: f64 = 960.0;
/// Minimum height of every chart's `viewBox`.
const MIN_HEIGHT: f64 = 300.0;

const BG: &str = "#171a23";
const GRID: &str = "#232736";
const TEXT: &str = "#e8eaf0";
const MUTED: &str = "#8b90a3";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/// Left edge of the title and legend.
const PAD_X: f64 = 16.0;
/// Left edge of the plot area (room for the y tick labels).
const PLOT_LEFT: f64 = 56.0;
/// Right edge of the plot area.
const PLOT_RIGHT: f64 = WIDTH - 20.0;
/// Space under the plot area for the x labels.
const PAD_BOTTOM: f64 = 34.0;
/// Baseline of the title.
const TITLE_Y: f64 = 28.0;
/// Top of the plot area when nothing sits between it and the title.
const PLOT_TOP: f64 = 52.0;
/// Top of the first legend row, and the height of one row.
const LEGEND_TOP: f64 = 42.0;
const LEGEND_ROW: f64 = 26.0;
/// Minimum plot height of the stacked chart, however many legend rows it has.
const MIN_PLOT_HEIGHT: f64 = 190.0;
/// At most this many x labels.
const MAX_X_LABELS: usize = 8;

/// Series colours, chosen to stay distinct and readable on the dark background.
const PALETTE: [&str; 10] = [
    "#ff4f6d", "#4fc3ff", "#ffc145", "#5ee0a0", "#b18cff", "#ff8a4c", "#3ddbd9", "#f06fd0",
    "#c6e05a", "#8fa8ff",
];

/// One stamp's count in one time bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct StackPart {
    pub stamp_id: i32,
    pub count: i64,
}

/// One time bucket of the stacked chart: its start as unix seconds, and the counts per stamp.
#[derive(Debug, Clone, PartialEq)]
pub struct StackBucket {
    pub start_unix: i64,
    pub parts: Vec<StackPart>,
}

/// A legend entry: stamp id, its display name (e.g. ":smile:"), its image URL (e.g. "/media/stamps/01_smile.svg").
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub stamp_id: i32,
    pub name: String,
    pub image_url: String,
}

/// Stacked bar chart of reactions per bucket, one colour per stamp (stable palette by legend order, 8+ distinct colours that look good on dark), with a legend that shows each stamp's image (<image href=...> referencing the same-origin URL, width/height 18) and name, y-axis with 4-5 nice round ticks (1, 2, 5 × 10^n), x-axis labels as HH:MM UTC for at most ~8 evenly spaced buckets, and a <title> tooltip per bar segment like "12:05 :smile: 120".
///
/// Segments stack in legend order; stamps missing from the legend are drawn
/// last in a neutral colour. Non-positive counts are skipped. Empty `buckets`
/// render a "No reactions yet" panel; buckets that are all zero keep their
/// axes and show the same message over the plot.
pub fn stacked_reactions(buckets: &[StackBucket], legend: &[LegendEntry], title: &str) -> String {
    if buckets.is_empty() {
        return empty_state(title, "No reactions yet");
    }

    let (slots, rows) = layout_legend(legend);
    let plot_top = if rows == 0 {
        PLOT_TOP
    } else {
        LEGEND_TOP + rows as f64 * LEGEND_ROW + 8.0
    };
    let plot_h = MIN_PLOT_HEIGHT.max(MIN_HEIGHT - PAD_BOTTOM - plot_top);
    let plot_bottom = plot_top + plot_h;
    let height = plot_bottom + PAD_BOTTOM;

    let totals: Vec<i64> = buckets
        .iter()
        .map(|b| {
            b.parts
                .iter()
                .filter(|p| p.count > 0)
                .fold(0i64, |acc, p| acc.saturating_add(p.count))
        })
        .collect();
    let grand_total = totals.iter().fold(0i64, |acc, &t| acc.saturating_add(t));
    let max = totals.iter().copied().max().unwrap_or(0);
    // Counts are whole numbers: a floor of 3 keeps the tick step at 1 or more.
    let ticks = nice_ticks((max as f64).max(3.0));
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let y_of = |v: i64| round1(plot_bottom - v as f64 / top_value * plot_h);

    let aria = format!(
        "{title}: stacked bar chart of reactions per stamp, {} buckets, {grand_total} reactions in total",
        buckets.len()
    );
    let mut out = open_svg(height, &aria);
    write_title(&mut out, title);

    for (entry, &(x, y)) in legend.iter().zip(&slots) {
        let colour = palette(legend_index(legend, entry.stamp_id).unwrap_or(0));
        let _ = write!(
            out,
            r#"<g><circle cx="{}" cy="{}" r="5" fill="{colour}"/><image href="{}" x="{}" y="{}" width="18" height="18"/><text x="{}" y="{}" font-size="12" fill="{TEXT}">{}</text></g>"#,
            fmt_coord(x + 5.0),
            fmt_coord(y + 9.0),
            esc(&entry.image_url),
            fmt_coord(x + 14.0),
            fmt_coord(y),
            fmt_coord(x + 38.0),
            fmt_coord(y + 13.0),
            esc(&legend_label(&entry.name)),
        );
    }

    write_y_axis(&mut out, &ticks, plot_top, plot_h);

    let slot = (PLOT_RIGHT - PLOT_LEFT) / buckets.len() as f64;
    let bar_w = (slot * 0.72).min(56.0);
    for (i, (bucket, &total)) in buckets.iter().zip(&totals).enumerate() {
        let x = round1(PLOT_LEFT + slot * i as f64 + (slot - bar_w) / 2.0);
        let label = fmt_hhmm(bucket.start_unix);
        let mut parts: Vec<(Option<usize>, &StackPart)> = bucket
            .parts
            .iter()
            .filter(|p| p.count > 0)
            .map(|p| (legend_index(legend, p.stamp_id), p))
            .collect();
        parts.sort_by_key(|&(idx, _)| idx.unwrap_or(usize::MAX));

        let _ = write!(out, "<g><title>{} total {total}</title>", esc(&label));
        let mut below = 0i64;
        for (idx, part) in parts {
            let above = below.saturating_add(part.count);
            let (top, bottom) = (y_of(above), y_of(below));
            below = above;
            let (colour, name) = match idx {
                Some(i) => (palette(i), legend[i].name.clone()),
                None => (MUTED, format!("stamp #{}", part.stamp_id)),
            };
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"><title>{}</title></rect>"#,
                fmt_coord(x),
                fmt_coord(top),
                fmt_coord(bar_w),
                fmt_coord(bottom - top),
                esc(&format!("{label} {name} {}", part.count)),
            );
        }
        out.push_str("</g>");
    }

    let stride = buckets.len().div_ceil(MAX_X_LABELS);
    for (i, bucket) in buckets.iter().enumerate().step_by(stride) {
        let cx = PLOT_LEFT + slot * (i as f64 + 0.5);
        write_x_label(&mut out, cx, plot_bottom, &fmt_hhmm(bucket.start_unix));
    }

    if grand_total == 0 {
        write_centered_message(&mut out, plot_top + plot_h / 2.0, "No reactions yet");
    }
    out.push_str("</svg>");
    out
}

/// A line chart (e.g. chat messages per minute, or concurrent viewers) of (unix seconds, value) points, with nice y ticks, HH:MM UTC x labels, a subtle area fill under the line in `color`, and the title at top-left. Handles 0 or 1 points gracefully (render an empty-state text "No data yet").
///
/// Points are sorted by time; non-finite values are dropped and negative
/// values are drawn at the baseline. `color` is any SVG colour (e.g.
/// `"#4fc3ff"`); the latest value is shown at top-right in that colour.
pub fn line_chart(points: &[(i64, f64)], title: &str, color: &str) -> String {
    let mut pts: Vec<(i64, f64)> = points
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|&(t, v)| (t, v.max(0.0)))
        .collect();
    pts.sort_by_key(|&(t, _)| t);
    let (Some(&(t0, _)), Some(&(t1, last))) = (pts.first(), pts.last()) else {
        return empty_state(title, "No data yet");
    };
    if t1 == t0 {
        return empty_state(title, "No data yet");
    }

    let plot_h = MIN_HEIGHT - PAD_BOTTOM - PLOT_TOP;
    let plot_bottom = PLOT_TOP + plot_h;
    let max = pts.iter().map(|&(_, v)| v).fold(0.0, f64::max);
    let whole = pts.iter().all(|&(_, v)| v.fract() == 0.0);
    let ticks = nice_ticks(if whole { max.max(3.0) } else { max });
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let span = (t1 - t0) as f64;
    let x_of = |t: i64| round1(PLOT_LEFT + (t - t0) as f64 / span * (PLOT_RIGHT - PLOT_LEFT));
    let y_of = |v: f64| round1(plot_bottom - v / top_value * plot_h);

    let aria = format!(
        "{title}: line chart from {} to {} UTC, latest value {}",
        fmt_hhmm(t0),
        fmt_hhmm(t1),
        fmt_value(last)
    );
    let mut out = open_svg(MIN_HEIGHT, &aria);
    write_title(&mut out, title);
    let colour = esc(color);
    let _ = write!(
        out,
        r#"<text x="{}" y="{TITLE_Y}" text-anchor="end" font-size="15" font-weight="600" fill="{colour}"><tspan font-size="11" font-weight="400" fill="{MUTED}">latest</tspan><tspan dx="6">{}</tspan></text>"#,
        fmt_coord(PLOT_RIGHT),
        esc(&fmt_value(last)),
    );

    write_y_axis(&mut out, &ticks, PLOT_TOP, plot_h);

    // "L x y" per point: the area continues from the baseline, the line starts with M.
    let mut segments = String::new();
    for &(t, v) in &pts {
        let _ = write!(segments, "L{} {}", fmt_coord(x_of(t)), fmt_coord(y_of(v)));
    }
    let line = segments.replacen('L', "M", 1);
    // Same colour, same gradient: the id only has to differ between colours,
    // so several charts can be inlined into one page.
    let gradient = format!("stampede-area-{:08x}", fnv1a(color));
    let _ = write!(
        out,
        r#"<defs><linearGradient id="{gradient}" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{colour}" stop-opacity="0.28"/><stop offset="1" stop-color="{colour}" stop-opacity="0.02"/></linearGradient></defs>"#,
    );
    let _ = write!(
        out,
        r#"<path d="M{} {}{segments}L{} {}Z" fill="url(#{gradient})"/>"#,
        fmt_coord(x_of(t0)),
        fmt_coord(plot_bottom),
        fmt_coord(x_of(t1)),
        fmt_coord(plot_bottom),
    );
    let _ = write!(
        out,
        r#"<path d="{line}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>"#,
    );
    let _ = write!(
        out,
        r#"<circle cx="{}" cy="{}" r="4" fill="{colour}" stroke="{BG}" stroke-width="2"><title>{}</title></circle>"#,
        fmt_coord(x_of(t1)),
        fmt_coord(y_of(last)),
        esc(&format!("{} {}", fmt_hhmm(t1), fmt_value(last))),
    );

    for t in time_ticks(t0, t1) {
        write_x_label(&mut out, x_of(t), plot_bottom, &fmt_hhmm(t));
    }
    out.push_str("</svg>");
    out
}

/// Escapes `& < > " '` so the text is safe in element content and in attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Round axis ticks from 0 up to the first tick at or above `max`, stepping
/// by 1, 2 or 5 × 10^n: the largest such step that still gives at least 3
/// intervals, so 4–5 ticks (6 when `max` sits just under a power of ten,
/// e.g. 0, 2, …, 10). A non-positive or non-finite `max` is treated as 1.
fn nice_ticks(max: f64) -> Vec<f64> {
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

/// `HH:MM` of a unix timestamp in UTC.
fn fmt_hhmm(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// The `i`th series colour, cycling after the palette runs out.
fn palette(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Opens the `<svg>` element and paints the background.
fn open_svg(height: f64, aria_label: &str) -> String {
    let h = fmt_coord(height);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{}" font-family="{FONT}"><path d="M0 0H{w}V{h}H0Z" fill="{BG}"/>"#,
        esc(aria_label),
        w = fmt_coord(WIDTH),
    )
}

fn write_title(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<text x="{PAD_X}" y="{TITLE_Y}" font-size="15" font-weight="600" fill="{TEXT}">{}</text>"#,
        esc(title)
    );
}

/// Horizontal grid lines with right-aligned labels left of the plot.
fn write_y_axis(out: &mut String, ticks: &[f64], plot_top: f64, plot_h: f64) {
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let step = ticks.get(1).copied().unwrap_or(top_value);
    for (i, &tick) in ticks.iter().enumerate() {
        let y = fmt_coord(plot_top + plot_h - tick / top_value * plot_h);
        let width = if i == 0 { "1.5" } else { "1" };
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{GRID}" stroke-width="{width}"/><text x="{}" y="{y}" dy="4" text-anchor="end" font-size="11" fill="{MUTED}">{}</text>"#,
            fmt_coord(PLOT_LEFT),
            fmt_coord(PLOT_RIGHT),
            fmt_coord(PLOT_LEFT - 8.0),
            esc(&fmt_tick(tick, step)),
        );
    }
}

fn write_x_label(out: &mut String, x: f64, plot_bottom: f64, label: &str) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{MUTED}">{}</text>"#,
        fmt_coord(x),
        fmt_coord(plot_bottom + 20.0),
        esc(label),
    );
}

fn write_centered_message(out: &mut String, y: f64, message: &str) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="14" fill="{MUTED}">{}</text>"#,
        fmt_coord((PLOT_LEFT + PLOT_RIGHT) / 2.0),
        fmt_coord(y),
        esc(message),
    );
}

/// A chart card with only the title, an empty baseline and a message.
fn empty_state(title: &str, message: &str) -> String {
    let mut out = open_svg(MIN_HEIGHT, &format!("{title}: {message}"));
    write_title(&mut out, title);
    let baseline = fmt_coord(MIN_HEIGHT - PAD_BOTTOM);
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{baseline}" x2="{}" y2="{baseline}" stroke="{GRID}" stroke-width="1.5"/>"#,
        fmt_coord(PLOT_LEFT),
        fmt_coord(PLOT_RIGHT),
    );
    write_centered_message(
        &mut out,
        (PLOT_TOP + MIN_HEIGHT - PAD_BOTTOM) / 2.0 + 5.0,
        message,
    );
    out.push_str("</svg>");
    out
}

/// Top-left corner of each legend entry, flowing left to right and wrapping,
/// and the number of rows used.
fn layout_legend(legend: &[LegendEntry]) -> (Vec<(f64, f64)>, usize) {
    let mut slots = Vec::with_capacity(legend.len());
    let (mut x, mut row) = (PAD_X, 0usize);
    for entry in legend {
        // swatch + image + gap, then a rough 12px system-ui text width.
        let width = 38.0 + legend_label(&entry.name).chars().count() as f64 * 6.6 + 16.0;
        if x > PAD_X && x + width > PLOT_RIGHT {
            x = PAD_X;
            row += 1;
        }
        slots.push((x, LEGEND_TOP + row as f64 * LEGEND_ROW));
        x += width;
    }
    let rows = if legend.is_empty() { 0 } else { row + 1 };
    (slots, rows)
}

/// A legend name shortened to at most 24 characters.
fn legend_label(name: &str) -> String {
    const MAX: usize = 24;
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        let mut short: String = name.chars().take(MAX - 1).collect();
        short.push('…');
        short
    }
}

/// Position of the stamp in the legend (its first entry), which picks its colour.
fn legend_index(legend: &[LegendEntry], stamp_id: i32) -> Option<usize> {
    legend.iter().position(|e| e.stamp_id == stamp_id)
}

/// Round times (multiples of 1, 2, 5, 10, 15, 30 minutes or 1, 2, 3, 6, 12 hours,
/// or whole days) inside `[t0, t1]`, at most [`MAX_X_LABELS`] of them.
/// Falls back to the two ends when the span is shorter than a minute.
fn time_ticks(t0: i64, t1: i64) -> Vec<i64> {
    const STEPS: [i64; 12] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    ];
    let span = t1 - t0;
    let limit = MAX_X_LABELS as i64 - 1;
    let step = STEPS
        .iter()
        .copied()
        .find(|&s| span / s <= limit)
        .unwrap_or_else(|| 86_400 * ((span / 86_400 + limit - 1) / limit).max(1));
    let first = t0.div_euclid(step) * step + if t0.rem_euclid(step) == 0 { 0 } else { step };
    let ticks: Vec<i64> = (0..)
        .map(|k| first + k * step)
        .take_while(|&t| t <= t1)
        .take(MAX_X_LABELS)
        .collect();
    if ticks.is_empty() {
        vec![t0, t1]
    } else {
        ticks
    }
}

/// A coordinate rounded to one decimal, without a trailing ".0".
fn fmt_coord(v: f64) -> String {
    let r = round1(v);
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A tick label: compact (`1.5k`, `2M`) and with only as many decimals as the step needs.
fn fmt_tick(v: f64, step: f64) -> String {
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
fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// FNV-1a, for short deterministic element ids.
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 12:05:00 UTC on the day of 1_700_000_000 (2023-11-14).
    const AT_1205: i64 = 1_700_000_000 - 1_700_000_000 % 86_400 + 12 * 3600 + 5 * 60;

    fn legend() -> Vec<LegendEntry> {
        vec![
            LegendEntry {
                stamp_id: 1,
                name: ":smile:".into(),
                image_url: "/media/stamps/01_smile.svg".into(),
            },
            LegendEntry {
                stamp_id: 2,
                name: "<b>&\"love\"'s</b>".into(),
                image_url: "/media/stamps/04_love.svg?a=1&b=2".into(),
            },
        ]
    }

    fn part(stamp_id: i32, count: i64) -> StackPart {
        StackPart { stamp_id, count }
    }

    #[test]
    fn nice_ticks_are_round_ascending_and_cover_max() {
        for max in [
            0.37, 1.0, 3.0, 4.0, 7.0, 9.5, 10.0, 42.0, 120.0, 999.0, 1000.0, 12_345.0, 8.1e6,
        ] {
            let ticks = nice_ticks(max);
            assert!((4..=6).contains(&ticks.len()), "{max}: {ticks:?}");
            assert_eq!(ticks[0], 0.0, "{max}: {ticks:?}");
            let step = ticks[1];
            let mantissa = step / 10f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-6),
                "{max}: step {step}"
            );
            for (i, pair) in ticks.windows(2).enumerate() {
                assert!(pair[1] > pair[0], "{max}: {ticks:?}");
                let expected = (i + 1) as f64 * step;
                assert!((pair[1] - expected).abs() < step * 1e-9, "{max}: {ticks:?}");
            }
            let top = *ticks.last().unwrap();
            assert!(top >= max, "{max}: {ticks:?}");
            assert!(top - step < max, "{max}: needless extra tick {ticks:?}");
        }
        assert_eq!(nice_ticks(3.0), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(120.0), vec![0.0, 50.0, 100.0, 150.0]);
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            let ticks = nice_ticks(bad);
            assert!(ticks.len() >= 2 && ticks[0] == 0.0, "{bad}: {ticks:?}");
        }
    }

    #[test]
    fn esc_escapes_all_five() {
        assert_eq!(esc(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
        assert_eq!(esc("plain :smile: ✓"), "plain :smile: ✓");
    }

    #[test]
    fn fmt_hhmm_is_utc() {
        // 1_700_000_000 % 86_400 = 80_000 s = 22:13:20.
        assert_eq!(fmt_hhmm(1_700_000_000), "22:13");
        assert_eq!(fmt_hhmm(AT_1205), "12:05");
        assert_eq!(fmt_hhmm(AT_1205 + 59), "12:05");
        assert_eq!(fmt_hhmm(0), "00:00");
        assert_eq!(fmt_hhmm(-60), "23:59");
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(fmt_tick(0.0, 500.0), "0");
        assert_eq!(fmt_tick(1500.0, 500.0), "1.5k");
        assert_eq!(fmt_tick(2000.0, 500.0), "2k");
        assert_eq!(fmt_tick(0.2, 0.2), "0.2");
        assert_eq!(fmt_tick(40.0, 10.0), "40");
        assert_eq!(fmt_tick(3_000_000.0, 1_000_000.0), "3M");
    }

    #[test]
    fn stacked_has_one_rect_per_nonzero_segment() {
        let buckets = vec![
            StackBucket {
                start_unix: AT_1205,
                parts: vec![part(1, 120), part(2, 30), part(2, 0)],
            },
            StackBucket {
                start_unix: AT_1205 + 60,
                parts: vec![part(2, 7), part(99, 3), part(1, -4)],
            },
            StackBucket {
                start_unix: AT_1205 + 120,
                parts: vec![],
            },
        ];
        let svg = stacked_reactions(&buckets, &legend(), "Reactions <live>");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
        assert!(svg.contains(r#"role="img""#));
        assert_eq!(svg.matches("<rect").count(), 4);
        assert!(svg.contains(":smile:"));
        assert!(svg.contains("&lt;b&gt;&amp;&quot;love&quot;&#39;s&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("Reactions &lt;live&gt;"));
        assert!(svg.contains(r#"href="/media/stamps/01_smile.svg""#));
        assert!(svg.contains(r#"href="/media/stamps/04_love.svg?a=1&amp;b=2""#));
        assert_eq!(svg.matches("<image").count(), 2);
        assert!(svg.contains(r#"width="18" height="18""#));
        assert!(svg.contains("<title>12:05 :smile: 120</title>"));
        assert!(svg.contains("<title>12:06 stamp #99 3</title>"));
        assert!(svg.contains(&format!(r#"fill="{}""#, palette(0))));
        assert!(svg.contains(&format!(r#"fill="{}""#, palette(1))));
        assert!(!svg.to_lowercase().contains("<script"));
        assert!(!svg.contains("No reactions yet"));
    }

    #[test]
    fn stacked_x_label_for_bucket_at_1205() {
        let buckets = [StackBucket {
            start_unix: AT_1205,
            parts: vec![part(1, 5)],
        }];
        let svg = stacked_reactions(&buckets, &legend(), "Reactions");
        let expected = format!(">{}</text>", fmt_hhmm(AT_1205));
        assert_eq!(expected, ">12:05</text>");
        assert!(svg.contains(&expected), "{svg}");
    }

    #[test]
    fn stacked_labels_at_most_eight_buckets() {
        let buckets: Vec<StackBucket> = (0..60)
            .map(|i| StackBucket {
                start_unix: AT_1205 + i * 60,
                parts: vec![part(1, i + 1)],
            })
            .collect();
        let svg = stacked_reactions(&buckets, &legend(), "Reactions");
        let x_labels = svg
            .matches(r#"text-anchor="middle" font-size="11""#)
            .count();
        assert!((1..=MAX_X_LABELS).contains(&x_labels), "{x_labels}");
        assert_eq!(svg.matches("<rect").count(), 60);
    }

    #[test]
    fn stacked_wraps_a_long_legend() {
        let legend: Vec<LegendEntry> = (0..20)
            .map(|i| LegendEntry {
                stamp_id: i,
                name: format!(":stamp_number_{i}:"),
                image_url: format!("/media/stamps/{i}.svg"),
            })
            .collect();
        let buckets = [StackBucket {
            start_unix: AT_1205,
            parts: (0..20).map(|i| part(i, 10)).collect(),
        }];
        let svg = stacked_reactions(&buckets, &legend, "Reactions");
        assert!(
            !svg.contains(r#"viewBox="0 0 960 300""#),
            "taller than one row"
        );
        assert_eq!(svg.matches("<rect").count(), 20);
        assert_eq!(palette(0), palette(PALETTE.len()));
    }

    #[test]
    fn stacked_empty_states() {
        let svg = stacked_reactions(&[], &legend(), "Reactions");
        assert!(svg.starts_with("<svg") && svg.contains("No reactions yet"));
        assert_eq!(svg.matches("<rect").count(), 0);

        let zeros = [StackBucket {
            start_unix: AT_1205,
            parts: vec![part(1, 0)],
        }];
        let svg = stacked_reactions(&zeros, &legend(), "Reactions");
        assert!(svg.contains("No reactions yet") && svg.contains(">12:05<"));
        assert_eq!(svg.matches("<rect").count(), 0);
    }

    #[test]
    fn line_chart_draws_a_path() {
        let points: Vec<(i64, f64)> = (0..=30)
            .map(|i| (AT_1205 - 300 + i * 60, (i * 7 % 23) as f64))
            .collect();
        let svg = line_chart(&points, "Messages / min", "#4fc3ff");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r##"<path d="M56 "##), "{svg}");
        assert!(svg.contains(r##"stroke="#4fc3ff""##));
        assert!(svg.contains(">12:05</text>"), "{svg}");
        assert!(svg.contains("Messages / min"));
        assert!(!svg.contains("No data yet"));
        assert!(!svg.to_lowercase().contains("<script"));
    }

    #[test]
    fn line_chart_empty_states() {
        for points in [
            vec![],
            vec![(AT_1205, 3.0)],
            vec![(AT_1205, 1.0), (AT_1205, 2.0)],
        ] {
            let svg = line_chart(&points, "Viewers", "#ff4f6d");
            assert!(svg.starts_with("<svg"));
            assert!(svg.contains("No data yet"), "{points:?}");
            assert!(!svg.contains("stroke=\"#ff4f6d\""));
        }
    }

    #[test]
    fn line_chart_escapes_color_and_title() {
        let points = [(AT_1205, 1.5), (AT_1205 + 60, 2.25)];
        let svg = line_chart(&points, "a\"b", "red\" onload=\"x");
        assert!(!svg.contains("onload=\""));
        assert!(svg.contains("a&quot;b"));
    }

    #[test]
    fn time_ticks_are_round_and_few() {
        let t0 = AT_1205 - 300 + 17;
        let ticks = time_ticks(t0, t0 + 3 * 3600);
        assert!(!ticks.is_empty() && ticks.len() <= MAX_X_LABELS);
        assert!(ticks.iter().all(|t| t % 1800 == 0 && *t >= t0));
        assert_eq!(
            time_ticks(AT_1205 + 10, AT_1205 + 20),
            vec![AT_1205 + 10, AT_1205 + 20]
        );
        assert!(time_ticks(0, 40 * 86_400).len() <= MAX_X_LABELS);
    }

    #[test]
    fn coordinates_have_at_most_one_decimal() {
        assert_eq!(fmt_coord(12.0), "12");
        assert_eq!(fmt_coord(12.34), "12.3");
        assert_eq!(fmt_coord(-0.01), "0");
    }
}
