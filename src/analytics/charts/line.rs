//! The line chart of one value over time (e.g. chat messages per minute).

use std::fmt::Write as _;

use super::format::{fmt_coord, fmt_value, round1};
use super::layout::{
    Frame, LABEL_SIZE, MIN_HEIGHT, PAD_BOTTOM, PLOT_LEFT, PLOT_TOP, TITLE_SIZE, TITLE_Y,
};
use super::svg::{empty_state, esc, fnv1a, open_svg, write_title, write_x_label, write_y_axis};
use super::theme::{BG, MUTED};
use super::ticks::{nice_ticks, time_ticks};
use super::Reader;

/// A line chart (e.g. chat messages per minute, or concurrent viewers) of (unix seconds, value) points, with nice y ticks, HH:MM x labels on the reader's clock, a subtle area fill under the line in `color`, and the title at top-left. Handles 0 or 1 points gracefully (an empty-state text, "No data yet").
///
/// Points are sorted by time; non-finite values are dropped and negative
/// values are drawn at the baseline. `color` is any SVG colour (e.g.
/// `"#4fc3ff"`); the latest value is shown at top-right in that colour.
/// `width` is the `viewBox` width (see [`layout`](super::layout) for why it
/// should match the width the page shows the chart at).
pub fn line_chart(
    points: &[(i64, f64)],
    title: &str,
    color: &str,
    width: f64,
    reader: &Reader,
) -> String {
    let frame = Frame::new(width);
    let mut pts: Vec<(i64, f64)> = points
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|&(t, v)| (t, v.max(0.0)))
        .collect();
    pts.sort_by_key(|&(t, _)| t);
    let (Some(&(t0, _)), Some(&(t1, last))) = (pts.first(), pts.last()) else {
        return empty_state(frame, title, &reader.i18n.t("chart-no-data"));
    };
    if t1 == t0 {
        return empty_state(frame, title, &reader.i18n.t("chart-no-data"));
    }

    let plot_h = MIN_HEIGHT - PAD_BOTTOM - PLOT_TOP;
    let plot_bottom = PLOT_TOP + plot_h;
    let max = pts.iter().map(|&(_, v)| v).fold(0.0, f64::max);
    let whole = pts.iter().all(|&(_, v)| v.fract() == 0.0);
    let ticks = nice_ticks(if whole { max.max(3.0) } else { max });
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let span = (t1 - t0) as f64;
    let x_of =
        |t: i64| round1(PLOT_LEFT + (t - t0) as f64 / span * (frame.plot_right() - PLOT_LEFT));
    let y_of = |v: f64| round1(plot_bottom - v / top_value * plot_h);

    let aria = reader.i18n.tn(
        "chart-line-summary",
        &[
            ("title", title),
            ("from", &reader.hhmm(t0)),
            ("to", &reader.hhmm(t1)),
            ("zone", reader.zone.name()),
            ("latest", &fmt_value(last)),
        ],
    );
    let mut out = open_svg(frame, MIN_HEIGHT, &aria);
    write_title(&mut out, title);
    let colour = esc(color);
    let _ = write!(
        out,
        r#"<text x="{}" y="{TITLE_Y}" text-anchor="end" font-size="{TITLE_SIZE}" font-weight="600" fill="{colour}"><tspan font-size="{LABEL_SIZE}" font-weight="400" fill="{MUTED}">{}</tspan><tspan dx="6">{}</tspan></text>"#,
        fmt_coord(frame.plot_right()),
        esc(&reader.i18n.t("chart-latest")),
        esc(&fmt_value(last)),
    );

    write_y_axis(&mut out, frame, &ticks, PLOT_TOP, plot_h);

    // "L x y" per point: the area continues from the baseline, the line starts with M.
    let mut segments = String::new();
    for &(t, v) in &pts {
        let _ = write!(segments, "L{} {}", fmt_coord(x_of(t)), fmt_coord(y_of(v)));
    }
    let line = segments.replacen('L', "M", 1);
    // Same colour and width, same gradient: the id only has to differ
    // between those, so several charts (and the same chart drawn at two
    // widths) can be inlined into one page.
    let gradient = format!(
        "stampede-area-{:08x}-{}",
        fnv1a(color),
        fmt_coord(frame.width).replace('.', "_")
    );
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
        esc(&format!("{} {}", reader.hhmm(t1), fmt_value(last))),
    );

    // Round times on the reader's clock (a zone 5:30 ahead would otherwise
    // label the hours :30).
    let offset = reader.zone.offset_at(t0);
    for t in time_ticks(t0 + offset, t1 + offset, frame.max_x_labels()) {
        write_x_label(
            &mut out,
            x_of(t - offset),
            plot_bottom,
            &reader.hhmm(t - offset),
        );
    }
    out.push_str("</svg>");
    out
}
