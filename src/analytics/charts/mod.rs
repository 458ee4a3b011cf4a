//! Server-side SVG charts for the analytics dashboard.
//!
//! Everything here is plain string building; words and times come from
//! the [`Reader`]. Each chart is a
//! self-contained `<svg>` element (no scripts, no external stylesheets) drawn
//! for the dark dashboard theme, safe to inline into HTML or to serve as
//! `image/svg+xml`. The caller picks the `viewBox` width; the page scales the
//! chart to 100% of its container, text included, so a chart drawn at about
//! the width it is shown at keeps its text readable ([`layout`]). All
//! caller-provided text goes through [`esc`](svg::esc).
//!
//! The two charts live in `stacked` and `line`; they share the geometry
//! in `layout`, the colours in `theme`, the SVG building blocks in `svg`, the
//! axis ticks in `ticks` and the number and time formatting in `format`.

mod format;
mod layout;
mod legend;
mod line;
mod stacked;
mod svg;
mod theme;
mod ticks;

#[cfg(test)]
mod tests;

pub use layout::WIDTH;

use crate::i18n::{I18n, Zone};

/// Who a chart is drawn for: its words in their language, its times on
/// their clock.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    pub i18n: I18n,
    pub zone: Zone,
}

impl Reader {
    /// `HH:MM` on the reader's clock.
    fn hhmm(&self, unix: i64) -> String {
        self.zone.hhmm(unix)
    }
}
pub use line::line_chart;
pub use stacked::stacked_reactions;

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
