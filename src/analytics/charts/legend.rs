//! The stacked chart's legend: where each entry goes, its label, and which
//! entry (and so which colour) a stamp gets.

use super::layout::{Frame, LEGEND_ROW, LEGEND_TOP, PAD_X};
use super::LegendEntry;

/// Top-left corner of each legend entry, flowing left to right and wrapping,
/// and the number of rows used.
pub(super) fn layout_legend(frame: Frame, legend: &[LegendEntry]) -> (Vec<(f64, f64)>, usize) {
    let mut slots = Vec::with_capacity(legend.len());
    let (mut x, mut row) = (PAD_X, 0usize);
    for entry in legend {
        // swatch + image + gap, then a rough 12px system-ui text width.
        let width = 38.0 + legend_label(&entry.name).chars().count() as f64 * 6.6 + 16.0;
        if x > PAD_X && x + width > frame.plot_right() {
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
pub(super) fn legend_label(name: &str) -> String {
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
pub(super) fn legend_index(legend: &[LegendEntry], stamp_id: i32) -> Option<usize> {
    legend.iter().position(|e| e.stamp_id == stamp_id)
}
