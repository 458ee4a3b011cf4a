//! Where a result's text matches, so clients can mark it without matching
//! again: ranges `[start, end)` in UTF-16 code units of the text as typed
//! (the stored line with its HTML entities decoded), the unit JavaScript
//! strings count in, so `text.slice(start, end)` is the match.

use crate::moderation::sanitize::unescape;

/// The ranges of every occurrence of every term in `stored` (a line as
/// stored), case-insensitively, sorted and merged where they overlap.
pub fn ranges(stored: &str, terms: &[String]) -> Vec<[usize; 2]> {
    let text = unescape(stored);
    // The text lower-cased char by char, each lowered char with the UTF-16
    // span of the char it came from (one char may lower to several).
    let mut lowered: Vec<(char, usize, usize)> = Vec::with_capacity(text.len());
    let mut at = 0;
    for c in text.chars() {
        let end = at + c.len_utf16();
        lowered.extend(c.to_lowercase().map(|l| (l, at, end)));
        at = end;
    }
    let mut found: Vec<[usize; 2]> = Vec::new();
    for term in terms {
        let needle: Vec<char> = term.chars().flat_map(char::to_lowercase).collect();
        if needle.is_empty() || needle.len() > lowered.len() {
            continue;
        }
        let mut i = 0;
        while i + needle.len() <= lowered.len() {
            let window = &lowered[i..i + needle.len()];
            if window.iter().map(|(c, _, _)| *c).eq(needle.iter().copied()) {
                found.push([window[0].1, window[needle.len() - 1].2]);
                i += needle.len();
            } else {
                i += 1;
            }
        }
    }
    found.sort_unstable();
    let mut merged: Vec<[usize; 2]> = Vec::with_capacity(found.len());
    for range in found {
        match merged.last_mut() {
            Some(last) if range[0] <= last[1] => last[1] = last[1].max(range[1]),
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn japanese_inside_text() {
        assert_eq!(
            ranges("みなさんこんにちは！", &terms(&["こんにちは"])),
            [[4, 9]]
        );
    }

    #[test]
    fn english_in_any_case_every_occurrence() {
        assert_eq!(
            ranges("Hello, hello HELLO", &terms(&["hello"])),
            [[0, 5], [7, 12], [13, 18]]
        );
    }

    #[test]
    fn offsets_count_utf16_units_of_the_typed_text() {
        // "&lt;3" is "<3" as typed: one unit, not four; 🎉 is two units.
        assert_eq!(ranges("&lt;3 🎉 cake", &terms(&["cake"])), [[6, 10]]);
        assert_eq!(ranges("I &lt;3 it", &terms(&["<3"])), [[2, 4]]);
    }

    #[test]
    fn overlapping_terms_merge() {
        assert_eq!(ranges("abcdef", &terms(&["abc", "cde", "f"])), [[0, 6]]);
        assert!(ranges("abc", &terms(&["xyz"])).is_empty());
    }
}
