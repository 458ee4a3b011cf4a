//! Replies: a chat line may answer an earlier line of the same room, and
//! carries a short quote of it so every client can show what it answers
//! without looking it up.

use serde::{Deserialize, Serialize};

/// How much of the answered line a reply quotes, in characters as typed.
pub const QUOTE_CHARS: usize = 100;

/// The line a reply answers, as clients receive it.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
pub struct ReplyTo {
    pub id: i64,
    pub username: String,
    /// The first [`QUOTE_CHARS`] characters of its text (HTML-escaped like
    /// every line's text); empty once it was deleted.
    pub message: String,
    /// The answered line was deleted since (its text is no longer quoted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Its author, for the reply notification; not sent anywhere.
    #[serde(skip)]
    pub user_id: Option<i32>,
}

impl ReplyTo {
    /// The quote of line `id` by `username` with stored (escaped) `text`;
    /// a deleted line is not quoted.
    pub fn of(id: i64, username: String, text: &str, deleted: bool) -> ReplyTo {
        ReplyTo {
            id,
            username,
            message: if deleted { String::new() } else { quote(text) },
            deleted,
            user_id: None,
        }
    }
}

/// The first [`QUOTE_CHARS`] characters of an escaped text, counting each
/// entity (`&amp;`) as the one character it stands for, so a quote never
/// ends inside one; `…` marks a cut.
pub fn quote(escaped: &str) -> String {
    let mut out = String::new();
    let mut rest = escaped;
    let mut count = 0;
    while let Some(c) = rest.chars().next() {
        if count == QUOTE_CHARS {
            out.push('…');
            return out;
        }
        let len = match rest.find(';') {
            // The only entities stored texts hold are ours (sanitize), all short.
            Some(end) if c == '&' && end <= 5 => end + 1,
            _ => c.len_utf8(),
        };
        out.push_str(&rest[..len]);
        rest = &rest[len..];
        count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_a_hundred_characters_and_never_cuts_an_entity() {
        assert_eq!(quote("short &amp; sweet"), "short &amp; sweet");
        let long = "あ".repeat(99) + "&lt;b&gt;";
        assert_eq!(quote(&long), "あ".repeat(99) + "&lt;…");
        assert_eq!(quote(&"x".repeat(100)), "x".repeat(100));
        assert_eq!(quote(&"x".repeat(101)), "x".repeat(100) + "…");
        // A stray ampersand-like run is counted per character.
        assert_eq!(quote("a &amp b"), "a &amp b");
    }

    #[test]
    fn a_deleted_line_is_not_quoted() {
        let r = ReplyTo::of(4, "bob".into(), "secret", true);
        assert_eq!(r.message, "");
        assert!(r.deleted);
        let json = serde_json::to_value(ReplyTo::of(4, "bob".into(), "hi", false)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": 4, "username": "bob", "message": "hi"})
        );
    }
}
