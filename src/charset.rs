//! Character classes that matter for safety: control characters (refused
//! before any SQL runs: Postgres cannot store NUL, and the rest corrupt logs
//! and terminals), invisible characters (a message of only these looks empty),
//! and bidi controls (they reorder the text around them, so they are stripped).

/// True for characters that render as nothing: zero-width spaces and
/// joiners, soft hyphen, BOM, variation selectors, fillers, tags, and the
/// bidi marks and controls.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Bidi embeddings, overrides and isolates: they can make stored text read
/// differently from what was typed (or spill into the line around it), and
/// chat never needs them. The marks (LRM, RLM, ALM) stay: they only nudge
/// neutral characters and right-to-left writers use them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first control character (C0, DEL or C1) in `text`, other than those
/// `allowed`.
pub fn find_control(text: &str, allowed: &[char]) -> Option<char> {
    text.chars()
        .find(|c| c.is_control() && !allowed.contains(c))
}

/// Line breaks and tabs: the only control characters a chat line may hold.
pub const TEXT_WHITESPACE: &[char] = &['\n', '\r', '\t'];

/// Removes bidi controls.
pub fn strip_bidi_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_bidi_control) {
        text.chars().filter(|c| !is_bidi_control(*c)).collect()
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// True if nothing in `text` would be seen: only whitespace and invisible characters.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_found() {
        assert_eq!(find_control("bo\0b", &[]), Some('\0'));
        assert_eq!(find_control("a\u{7f}", &[]), Some('\u{7f}'));
        assert_eq!(find_control("a\u{85}", &[]), Some('\u{85}'));
        assert_eq!(find_control("line\nline", TEXT_WHITESPACE), None);
        assert_eq!(find_control("line\nline", &[]), Some('\n'));
        assert_eq!(find_control("こんにちは 👋🏽", &[]), None);
    }

    #[test]
    fn blank_means_nothing_visible() {
        assert!(is_blank("\u{200B}\u{200D}\u{FEFF} \u{2060}"));
        assert!(is_blank("\u{202E}\u{2066}"));
        assert!(!is_blank("\u{200B}a"));
        // An emoji sequence joined by ZWJ is visible.
        assert!(!is_blank("👩\u{200D}💻"));
    }

    #[test]
    fn bidi_controls_are_stripped_marks_kept() {
        assert_eq!(strip_bidi_controls("abc\u{202E}fed\u{202C}"), "abcfed");
        assert_eq!(strip_bidi_controls("\u{2067}x\u{2069}"), "x");
        assert_eq!(strip_bidi_controls("שלום\u{200F}!"), "שלום\u{200F}!");
    }
}
