//! Geometry and text sizes shared by every chart, in `viewBox` units.
//!
//! A chart is drawn `width` units wide and the page scales it to its box, so
//! text renders at `size × box width / width` CSS px. Drawing a chart at
//! about the width the page shows it at keeps its smallest text (12 units)
//! at 11 px or more; the dashboard picks the widths (see `http::dashboard`).

/// The default width of a chart's `viewBox` (a full-width desktop card).
pub const WIDTH: f64 = 960.0;
/// The narrowest chart that still has room for its axes and a few labels.
pub(super) const MIN_WIDTH: f64 = 280.0;
/// Wider charts would only shrink their text further.
pub(super) const MAX_WIDTH: f64 = 1920.0;
/// Minimum height of every chart's `viewBox`.
pub(super) const MIN_HEIGHT: f64 = 300.0;

/// Left edge of the title and legend.
pub(super) const PAD_X: f64 = 16.0;
/// Left edge of the plot area (room for the y tick labels).
pub(super) const PLOT_LEFT: f64 = 56.0;
/// Space right of the plot area.
pub(super) const PAD_RIGHT: f64 = 20.0;
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
/// At most this many x labels, however wide the chart.
pub(super) const MAX_X_LABELS: usize = 8;
/// Room one `HH:MM` x label needs so its neighbours do not touch.
const X_LABEL_SPACING: f64 = 72.0;

/// Text sizes. The smallest is 12 so that a chart shown at 92% of its
/// drawn width still renders every text at 11 px or more.
pub(super) const TITLE_SIZE: u32 = 15;
pub(super) const LABEL_SIZE: u32 = 12;
pub(super) const LEGEND_SIZE: u32 = 12;
pub(super) const MESSAGE_SIZE: u32 = 14;

/// The horizontal geometry of one chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Frame {
    pub width: f64,
}

impl Frame {
    /// A frame `width` units wide, kept within what the layout can draw.
    pub fn new(width: f64) -> Frame {
        let width = if width.is_finite() { width } else { WIDTH };
        Frame {
            width: width.clamp(MIN_WIDTH, MAX_WIDTH),
        }
    }

    /// Right edge of the plot area.
    pub fn plot_right(self) -> f64 {
        self.width - PAD_RIGHT
    }

    /// Horizontal middle of the plot area.
    pub fn plot_center(self) -> f64 {
        (PLOT_LEFT + self.plot_right()) / 2.0
    }

    /// How many x labels fit side by side (2 to [`MAX_X_LABELS`]).
    pub fn max_x_labels(self) -> usize {
        let fit = ((self.plot_right() - PLOT_LEFT) / X_LABEL_SPACING).floor() as usize;
        fit.clamp(2, MAX_X_LABELS)
    }
}
