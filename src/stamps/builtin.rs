//! The six stamps of seed 001, compiled into the binary so every node serves
//! the same bytes without shared storage.

/// `(file name, SVG)` of every built-in stamp.
pub const FILES: &[(&str, &str)] = &[
    ("01_smile.svg", include_str!("../../stamps/01_smile.svg")),
    (
        "02_surprise.svg",
        include_str!("../../stamps/02_surprise.svg"),
    ),
    ("03_cry.svg", include_str!("../../stamps/03_cry.svg")),
    ("04_love.svg", include_str!("../../stamps/04_love.svg")),
    ("05_scream.svg", include_str!("../../stamps/05_scream.svg")),
    ("06_angry.svg", include_str!("../../stamps/06_angry.svg")),
];

/// The SVG of built-in stamp `file`, if it is one.
pub fn get(file: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, svg)| *svg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_ins_pass_our_own_check() {
        for (name, svg) in super::FILES {
            crate::stamps::validate_svg(svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
