//! What a producer hands to [`super::Notifier::notify`]: checked once here,
//! so every producer (admins over REST, moderation, stream starts, chat's
//! mentions and replies) stores text within the same bounds.

use std::collections::BTreeMap;

use super::Title;
use crate::charset;
use crate::store::notifications::{Kind, NewRow, NotificationType};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 2000;
/// Longest link, in bytes (it is ASCII or refused).
pub const MAX_LINK_BYTES: usize = 2048;

/// Why a notification was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("title must be 1-{MAX_TITLE_CHARS} characters")]
    Title,
    #[error("body must be at most {MAX_BODY_CHARS} characters")]
    Body,
    #[error(
        "link must be an http:// or https:// URL or a path on this site (starting with one /), \
         at most {MAX_LINK_BYTES} printable ASCII characters"
    )]
    Link,
    #[error("{0} contains a control character")]
    Control(&'static str),
}

/// A notification about to be stored for one or more users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub kind_type: NotificationType,
    pub kind: Kind,
    /// Plain text, trimmed, without bidi controls; the English wording
    /// when the server wrote it.
    pub title: String,
    /// Set when the server wrote the title ([`Title`]): readers get it
    /// worded in their language.
    pub title_key: Option<&'static str>,
    pub title_args: BTreeMap<String, String>,
    /// Plain text (line breaks allowed), trimmed, without bidi controls.
    pub body: String,
    pub link: Option<String>,
    /// Who caused it (mentions, replies): recipients who blocked them and
    /// the sender themself get nothing.
    pub sender_id: Option<i32>,
}

impl NewNotification {
    /// Checks and normalises the text; `link` may be empty for none.
    pub fn new(
        kind: Kind,
        kind_type: NotificationType,
        title: &str,
        body: &str,
        link: Option<&str>,
    ) -> Result<Self, Invalid> {
        Ok(Self {
            kind_type,
            kind,
            title: title_of(title)?,
            title_key: None,
            title_args: BTreeMap::new(),
            body: body_of(body)?,
            link: link_of(link)?,
            sender_id: None,
        })
    }

    /// A notification whose title the server writes: stored in English
    /// with its key and arguments, worded per reader when read.
    pub fn worded(
        kind: Kind,
        kind_type: NotificationType,
        title: Title<'_>,
        body: &str,
        link: Option<&str>,
    ) -> Result<Self, Invalid> {
        let mut built = Self::new(kind, kind_type, &title.english(), body, link)?;
        built.title_key = Some(title.key());
        built.title_args = title.args();
        Ok(built)
    }

    /// Marks `sender_id` as the cause (a mention's or a reply's author).
    pub fn sent_by(mut self, sender_id: i32) -> Self {
        self.sender_id = Some(sender_id);
        self
    }

    /// The row to store for `user_id`.
    pub(crate) fn row_for(&self, user_id: i32) -> NewRow {
        NewRow {
            user_id,
            kind_type: self.kind_type,
            kind: self.kind,
            title: self.title.clone(),
            title_key: self.title_key,
            title_args: self.title_args.clone(),
            body: self.body.clone(),
            link: self.link.clone(),
            sender_id: self.sender_id,
        }
    }
}

fn title_of(raw: &str) -> Result<String, Invalid> {
    if charset::find_control(raw, &[]).is_some() {
        return Err(Invalid::Control("title"));
    }
    let text = charset::strip_bidi_controls(raw);
    let text = text.trim();
    if charset::is_blank(text) || text.chars().count() > MAX_TITLE_CHARS {
        return Err(Invalid::Title);
    }
    Ok(text.to_owned())
}

fn body_of(raw: &str) -> Result<String, Invalid> {
    if charset::find_control(raw, charset::TEXT_WHITESPACE).is_some() {
        return Err(Invalid::Control("body"));
    }
    let text = charset::strip_bidi_controls(raw);
    let text = text.trim();
    if text.chars().count() > MAX_BODY_CHARS {
        return Err(Invalid::Body);
    }
    Ok(text.to_owned())
}

/// An absolute `http(s)` URL with a host, or a path on this site. Anything
/// else (`javascript:`, `data:`, protocol-relative `//host`, backslashes
/// that browsers read as slashes, spaces) is refused rather than cleaned.
fn link_of(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(link) = raw.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let printable = link.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if !printable || link.len() > MAX_LINK_BYTES {
        return Err(Invalid::Link);
    }
    let lower = link.to_ascii_lowercase();
    let host_start = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let ok = match host_start {
        Some(rest) => rest
            .split(['/', '?', '#'])
            .next()
            .is_some_and(|host| !host.is_empty() && !host.starts_with('@')),
        None => link.starts_with('/') && !link.starts_with("//"),
    };
    if ok {
        Ok(Some(link.to_owned()))
    } else {
        Err(Invalid::Link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(title: &str, body: &str, link: Option<&str>) -> Result<NewNotification, Invalid> {
        NewNotification::new(Kind::System, NotificationType::Info, title, body, link)
    }

    #[test]
    fn links_are_web_urls_or_local_paths() {
        for good in [
            "https://example.com",
            "http://example.com/a?b#c",
            "HTTPS://Example.com/x",
            "/streams/4",
            "/",
        ] {
            assert!(system("t", "", Some(good)).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil.example",
            "/\\evil.example",
            "https://",
            "https:///path",
            "ftp://example.com",
            "streams/4",
            "/a b",
            "/ü",
        ] {
            assert_eq!(system("t", "", Some(bad)), Err(Invalid::Link), "{bad}");
        }
        assert_eq!(system("t", "", Some("  ")).unwrap().link, None);
        let long = format!("/{}", "a".repeat(MAX_LINK_BYTES));
        assert_eq!(system("t", "", Some(&long)), Err(Invalid::Link));
    }

    #[test]
    fn titles_and_bodies_are_bounded_plain_text() {
        assert_eq!(system("  ", "", None), Err(Invalid::Title));
        assert_eq!(
            system(&"t".repeat(MAX_TITLE_CHARS + 1), "", None),
            Err(Invalid::Title)
        );
        assert!(system(&"t".repeat(MAX_TITLE_CHARS), "", None).is_ok());
        assert_eq!(
            system("t", &"b".repeat(MAX_BODY_CHARS + 1), None),
            Err(Invalid::Body)
        );
        assert_eq!(system("a\nb", "", None), Err(Invalid::Control("title")));
        assert_eq!(system("t", "a\0b", None), Err(Invalid::Control("body")));
        let n = system(" <b>Hi</b>\u{202E} ", "line\nline", None).unwrap();
        assert_eq!(n.title, "<b>Hi</b>", "kept as typed, bidi controls removed");
        assert_eq!(n.body, "line\nline");
    }
}
