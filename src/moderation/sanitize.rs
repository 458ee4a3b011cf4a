//! User text → HTML-safe text. Every tag is removed (script and style with
//! their content), and `<`, `>`, `&` are escaped, so the result is inert both
//! for clients that use `textContent` and for seed clients that use `innerHTML`.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::charset;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder.clean_content_tags(HashSet::from(["script", "style"]));
    builder
});

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

/// Removes all markup and bidi controls; `Empty` if nothing visible is left.
pub fn sanitize(text: &str) -> Result<String, TextError> {
    let clean = CLEANER
        .clean(&charset::strip_bidi_controls(text))
        .to_string();
    let clean = clean.trim();
    if charset::is_blank(clean) {
        Err(TextError::Empty)
    } else {
        Ok(clean.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_removed() {
        assert_eq!(sanitize("<script>alert(1)</script>hello").unwrap(), "hello");
        assert_eq!(
            sanitize("hi <img src=x onerror=alert(1)> there").unwrap(),
            "hi  there"
        );
        assert_eq!(sanitize("<b>bold</b>").unwrap(), "bold");
        assert_eq!(
            sanitize("<img src=x onerror=alert(1)>"),
            Err(TextError::Empty)
        );
    }

    #[test]
    fn text_is_escaped_not_lost() {
        assert_eq!(
            sanitize("a < b && c > d").unwrap(),
            "a &lt; b &amp;&amp; c &gt; d"
        );
        assert_eq!(sanitize("こんにちは！").unwrap(), "こんにちは！");
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
        assert_eq!(sanitize("<b></b>\u{200B}"), Err(TextError::Empty));
        assert_eq!(sanitize("evil\u{202E}txt.exe").unwrap(), "eviltxt.exe");
    }
}
