//! Colours and font of the dark dashboard theme.

pub(super) const BG: &str = "#171a23";
pub(super) const GRID: &str = "#232736";
pub(super) const TEXT: &str = "#e8eaf0";
pub(super) const MUTED: &str = "#8b90a3";
pub(super) const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/// Series colours, chosen to stay distinct and readable on the dark background.
pub(super) const PALETTE: [&str; 10] = [
    "#ff4f6d", "#4fc3ff", "#ffc145", "#5ee0a0", "#b18cff", "#ff8a4c", "#3ddbd9", "#f06fd0",
    "#c6e05a", "#8fa8ff",
];

/// The `i`th series colour, cycling after the palette runs out.
pub(super) fn palette(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}
