//! Geometry shared by every chart, in `viewBox` units.

/// Width of every chart's `viewBox`.
pub(super) const WIDTH: f64 = 960.0;
/// Minimum height of every chart's `viewBox`.
pub(super) const MIN_HEIGHT: f64 = 300.0;

/// Left edge of the title and legend.
pub(super) const PAD_X: f64 = 16.0;
/// Left edge of the plot area (room for the y tick labels).
pub(super) const PLOT_LEFT: f64 = 56.0;
/// Right edge of the plot area.
pub(super) const PLOT_RIGHT: f64 = WIDTH - 20.0;
/// Space under the plot area for the x labels.
pub(super) const PAD_BOTTOM: f64 = 34.0;
/// Baseline of the title.
pub(super) const TITLE_Y: f64 = 28.0;
/// Top of the plot area when nothing sits between it and the title.
pub(super) const PLOT_TOP: f64 = 52.0;
/// Top of the first legend row, and the height of one row.
pub(super) const LEGEND_TOP: f64 = 42.0;
pub(super) const LEGEND_ROW: f64 = 26.0;
/// Minimum plot height of the stacked chart, however many legend rows it has.
pub(super) const MIN_PLOT_HEIGHT: f64 = 190.0;
/// At most this many x labels.
pub(super) const MAX_X_LABELS: usize = 8;
