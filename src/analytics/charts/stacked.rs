//! The stacked bar chart of reactions per stamp and time bucket.

use std::fmt::Write as _;

use super::format::{fmt_coord, round1};
use super::layout::{
    Frame, LEGEND_ROW, LEGEND_SIZE, LEGEND_TOP, MIN_HEIGHT, MIN_PLOT_HEIGHT, PAD_BOTTOM, PLOT_LEFT,
    PLOT_TOP,
};
use super::legend::{layout_legend, legend_index, legend_label};
use super::svg::{
    empty_state, esc, open_svg, write_centered_message, write_title, write_x_label, write_y_axis,
};
use super::theme::{palette, MUTED, TEXT};
use super::ticks::nice_ticks;
use super::{LegendEntry, Reader, StackBucket, StackPart};

/// Stacked bar chart of reactions per bucket, one colour per stamp (stable palette by legend order, 8+ distinct colours that look good on dark), with a legend that shows each stamp's image (<image href=...> referencing the same-origin URL, width/height 18) and name, y-axis with 4-5 nice round ticks (1, 2, 5 × 10^n), x-axis labels as HH:MM on the reader's clock for at most ~8 evenly spaced buckets, and a <title> tooltip per bar segment like "12:05 :smile: 120".
///
/// Segments stack in legend order; stamps missing from the legend are drawn
/// last in a neutral colour. Non-positive counts are skipped. Empty `buckets`
/// render a "No reactions yet" panel; buckets that are all zero keep their
/// axes and show the same message over the plot. `width` is the `viewBox`
/// width (see [`layout`](super::layout)).
pub fn stacked_reactions(
    buckets: &[StackBucket],
    legend: &[LegendEntry],
    title: &str,
    width: f64,
    reader: &Reader,
) -> String {
    let frame = Frame::new(width);
    let no_reactions = reader.i18n.t("chart-no-reactions");
    if buckets.is_empty() {
        return empty_state(frame, title, &no_reactions);
    }

    let (slots, rows) = layout_legend(frame, legend);
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

    let aria = reader.i18n.tn(
        "chart-stacked-summary",
        &[
            ("title", title),
            ("buckets", &buckets.len().to_string()),
            ("total", &grand_total.to_string()),
        ],
    );
    let mut out = open_svg(frame, height, &aria);
    write_title(&mut out, title);

    for (entry, &(x, y)) in legend.iter().zip(&slots) {
        let colour = palette(legend_index(legend, entry.stamp_id).unwrap_or(0));
        let _ = write!(
            out,
            r#"<g><circle cx="{}" cy="{}" r="5" fill="{colour}"/><image href="{}" x="{}" y="{}" width="18" height="18"/><text x="{}" y="{}" font-size="{LEGEND_SIZE}" fill="{TEXT}">{}</text></g>"#,
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

    write_y_axis(&mut out, frame, &ticks, plot_top, plot_h);

    let slot = (frame.plot_right() - PLOT_LEFT) / buckets.len() as f64;
    let bar_w = (slot * 0.72).min(56.0);
    for (i, (bucket, &total)) in buckets.iter().zip(&totals).enumerate() {
        let x = round1(PLOT_LEFT + slot * i as f64 + (slot - bar_w) / 2.0);
        let label = reader.hhmm(bucket.start_unix);
        let mut parts: Vec<(Option<usize>, &StackPart)> = bucket
            .parts
            .iter()
            .filter(|p| p.count > 0)
            .map(|p| (legend_index(legend, p.stamp_id), p))
            .collect();
        parts.sort_by_key(|&(idx, _)| idx.unwrap_or(usize::MAX));

        let bar_title = reader.i18n.tn(
            "chart-bar-total",
            &[("time", &label), ("total", &total.to_string())],
        );
        let _ = write!(out, "<g><title>{}</title>", esc(&bar_title));
        let mut below = 0i64;
        for (idx, part) in parts {
            let above = below.saturating_add(part.count);
            let (top, bottom) = (y_of(above), y_of(below));
            below = above;
            let (colour, name) = match idx {
                Some(i) => (palette(i), legend[i].name.clone()),
                None => (
                    MUTED,
                    reader
                        .i18n
                        .t1("chart-unknown-stamp", "id", &part.stamp_id.to_string()),
                ),
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

    let stride = buckets.len().div_ceil(frame.max_x_labels());
    for (i, bucket) in buckets.iter().enumerate().step_by(stride) {
        let cx = PLOT_LEFT + slot * (i as f64 + 0.5);
        write_x_label(&mut out, cx, plot_bottom, &reader.hhmm(bucket.start_unix));
    }

    if grand_total == 0 {
        write_centered_message(&mut out, frame, plot_top + plot_h / 2.0, &no_reactions);
    }
    out.push_str("</svg>");
    out
}
