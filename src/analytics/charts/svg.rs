//! SVG building blocks shared by the charts: escaping, the `<svg>` element,
//! title, axes, labels, the empty state and element ids.

use std::fmt::Write as _;

use super::format::{fmt_coord, fmt_tick};
use super::layout::{
    Frame, LABEL_SIZE, MESSAGE_SIZE, MIN_HEIGHT, PAD_BOTTOM, PAD_X, PLOT_LEFT, PLOT_TOP,
    TITLE_SIZE, TITLE_Y,
};
use super::theme::{BG, FONT, GRID, MUTED, TEXT};

/// Escapes `& < > " '` so the text is safe in element content and in attribute values.
pub(super) fn esc(s: &str) -> String {
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

/// Opens the `<svg>` element and paints the background.
pub(super) fn open_svg(frame: Frame, height: f64, aria_label: &str) -> String {
    let h = fmt_coord(height);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{}" font-family="{FONT}"><path d="M0 0H{w}V{h}H0Z" fill="{BG}"/>"#,
        esc(aria_label),
        w = fmt_coord(frame.width),
    )
}

pub(super) fn write_title(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<text x="{PAD_X}" y="{TITLE_Y}" font-size="{TITLE_SIZE}" font-weight="600" fill="{TEXT}">{}</text>"#,
        esc(title)
    );
}

/// Horizontal grid lines with right-aligned labels left of the plot.
pub(super) fn write_y_axis(
    out: &mut String,
    frame: Frame,
    ticks: &[f64],
    plot_top: f64,
    plot_h: f64,
) {
    let top_value = ticks.last().copied().unwrap_or(1.0);
    let step = ticks.get(1).copied().unwrap_or(top_value);
    for (i, &tick) in ticks.iter().enumerate() {
        let y = fmt_coord(plot_top + plot_h - tick / top_value * plot_h);
        let width = if i == 0 { "1.5" } else { "1" };
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{GRID}" stroke-width="{width}"/><text x="{}" y="{y}" dy="4" text-anchor="end" font-size="{LABEL_SIZE}" fill="{MUTED}">{}</text>"#,
            fmt_coord(PLOT_LEFT),
            fmt_coord(frame.plot_right()),
            fmt_coord(PLOT_LEFT - 8.0),
            esc(&fmt_tick(tick, step)),
        );
    }
}

pub(super) fn write_x_label(out: &mut String, x: f64, plot_bottom: f64, label: &str) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="{LABEL_SIZE}" fill="{MUTED}">{}</text>"#,
        fmt_coord(x),
        fmt_coord(plot_bottom + 20.0),
        esc(label),
    );
}

pub(super) fn write_centered_message(out: &mut String, frame: Frame, y: f64, message: &str) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="{MESSAGE_SIZE}" fill="{MUTED}">{}</text>"#,
        fmt_coord(frame.plot_center()),
        fmt_coord(y),
        esc(message),
    );
}

/// A chart card with only the title, an empty baseline and a message.
pub(super) fn empty_state(frame: Frame, title: &str, message: &str) -> String {
    let mut out = open_svg(frame, MIN_HEIGHT, &format!("{title}: {message}"));
    write_title(&mut out, title);
    let baseline = fmt_coord(MIN_HEIGHT - PAD_BOTTOM);
    let _ = write!(
        out,
        r#"<line x1="{}" y1="{baseline}" x2="{}" y2="{baseline}" stroke="{GRID}" stroke-width="1.5"/>"#,
        fmt_coord(PLOT_LEFT),
        fmt_coord(frame.plot_right()),
    );
    write_centered_message(
        &mut out,
        frame,
        (PLOT_TOP + MIN_HEIGHT - PAD_BOTTOM) / 2.0 + 5.0,
        message,
    );
    out.push_str("</svg>");
    out
}

/// FNV-1a, for short deterministic element ids.
pub(super) fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
