//! User text → HTML-safe text. What was typed is kept, character for
//! character, and shown literally: `<b>` reads as `<b>`, not as bold text and
//! not as nothing. The five characters that mean something in HTML are
//! escaped, so the result is inert for seed clients that insert it with
//! `innerHTML` (in element content and in quoted attributes alike), and
//! clients that use `textContent` get the typed text back by decoding those
//! five entities.

use crate::charset;

/// Why a text was refused before storage.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("message is empty")]
    Empty,
    #[error("message is longer than {0} characters")]
    TooLong(usize),
    #[error("message contains a control character")]
    Control,
}

/// Trims `raw` and checks it is 1..=`max_chars` characters, holds no control
/// character but line breaks and tabs, and has something visible.
pub fn validate_length(raw: &str, max_chars: usize) -> Result<&str, TextError> {
    if charset::find_control(raw, charset::TEXT_WHITESPACE).is_some() {
        return Err(TextError::Control);
    }
    let text = raw.trim();
    if charset::is_blank(text) {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong(max_chars));
    }
    Ok(text)
}

/// Removes bidi controls and escapes the rest; `Empty` if nothing visible is
/// left. Callers that skip [`validate_length`] (moderators' reasons and
/// announcements) rely on the emptiness check here.
pub fn sanitize(text: &str) -> Result<String, TextError> {
    let stripped = charset::strip_bidi_controls(text);
    // Trimmed again: a bidi control could have shielded whitespace at an end.
    let text = stripped.trim();
    if charset::is_blank(text) {
        Err(TextError::Empty)
    } else {
        Ok(escape_html(text))
    }
}

/// Escapes exactly `& < > " '` and nothing else, so decoding those five
/// entities gives back the input unchanged. Character references the user
/// typed are escaped like any other text (`&amp;` → `&amp;amp;`): typed text
/// is shown as typed, never interpreted.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The text as typed: [`escape_html`] undone (`&amp;` last), what a
/// `textContent` client does with a line (and what plain-text places, such
/// as notifications, store).
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaping_gives_back_what_was_typed() {
        assert_eq!(
            unescape("1 &lt; 2 &amp;amp; &#39;x&#39;"),
            "1 < 2 &amp; 'x'"
        );
    }

    #[test]
    fn markup_is_kept_and_escaped() {
        assert_eq!(
            sanitize("wrap it in <div> tags").unwrap(),
            "wrap it in &lt;div&gt; tags"
        );
        assert_eq!(sanitize("a<b>c").unwrap(), "a&lt;b&gt;c");
        assert_eq!(
            sanitize("<script>alert(1)</script>").unwrap(),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            sanitize("<img src=x onerror=alert(1)>").unwrap(),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(sanitize("<b></b>").unwrap(), "&lt;b&gt;&lt;/b&gt;");
    }

    #[test]
    fn quotes_and_ampersands_are_escaped() {
        assert_eq!(
            sanitize(r#"say "hi" & it's <fine>"#).unwrap(),
            "say &quot;hi&quot; &amp; it&#39;s &lt;fine&gt;"
        );
        assert_eq!(
            sanitize("a < b && c > d").unwrap(),
            "a &lt; b &amp;&amp; c &gt; d"
        );
        // A typed character reference is text, shown as typed.
        assert_eq!(sanitize("&amp;").unwrap(), "&amp;amp;");
        assert_eq!(
            sanitize("&lt;b&gt; &#39;").unwrap(),
            "&amp;lt;b&amp;gt; &amp;#39;"
        );
    }

    #[test]
    fn everything_else_is_unchanged() {
        for text in [
            "こんにちは！",
            "日本語のテキスト、そのまま。",
            "👋🏽 👩\u{200D}💻 🇯🇵",
            "line one\nline two",
            "tab\there",
            "no\u{00A0}break  two spaces",
            "שלום\u{200F}!",
            "a\\b/c=d;e#f",
        ] {
            assert_eq!(sanitize(text).unwrap(), text);
        }
    }

    #[test]
    fn decoding_the_five_entities_gives_back_what_was_typed() {
        for text in [
            "1 < 2 & <b>bold</b> <img src=x onerror=alert(1)>",
            r#"<a href="x" title='y'>&amp;&lt;&#39;</a>"#,
            "&&;&amp;amp;",
        ] {
            assert_eq!(unescape(&sanitize(text).unwrap()), text);
        }
    }

    #[test]
    fn lengths() {
        assert_eq!(validate_length("  hi  ", 5), Ok("hi"));
        assert_eq!(validate_length("   ", 5), Err(TextError::Empty));
        assert_eq!(
            validate_length("ありがとう!", 5),
            Err(TextError::TooLong(5))
        );
        assert_eq!(validate_length("ありがとう", 5), Ok("ありがとう"));
        // Counted before escaping: five characters, twenty-five once escaped.
        assert_eq!(validate_length("<<<<<", 5), Ok("<<<<<"));
        assert_eq!(sanitize("<<<<<").unwrap(), "&lt;".repeat(5));
    }

    #[test]
    fn invisible_only_is_empty_and_controls_are_refused() {
        assert_eq!(
            validate_length("\u{200B}\u{200C}\u{FEFF}", 5),
            Err(TextError::Empty)
        );
        assert_eq!(validate_length("a\0b", 5), Err(TextError::Control));
        assert_eq!(validate_length("a\u{1b}[2J", 9), Err(TextError::Control));
        assert_eq!(validate_length("a\nb", 5), Ok("a\nb"));
        assert_eq!(sanitize("\u{202E}\u{2066}"), Err(TextError::Empty));
        assert_eq!(sanitize(" \u{200B}\u{FEFF} "), Err(TextError::Empty));
        assert_eq!(sanitize("\u{202E} <b> \u{2069}").unwrap(), "&lt;b&gt;");
    }

    #[test]
    fn bidi_controls_are_stripped() {
        assert_eq!(sanitize("evil\u{202E}txt.exe").unwrap(), "eviltxt.exe");
        assert_eq!(
            sanitize("\u{2067}<i>\u{2069} x\u{202A}").unwrap(),
            "&lt;i&gt; x"
        );
    }
}
