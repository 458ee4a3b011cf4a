//! Titles the server writes (mentions, replies, moderation, `stream.live`),
//! worded in each reader's language. Such a title is stored as a key and
//! its arguments beside its English wording; reading words it again in the
//! reader's language, so a Japanese reader of an English speaker's mention
//! reads Japanese. Admins' `system` notices have no key: they are shown as
//! typed.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::i18n::{duration, text, text_with, Locale};
use crate::store::notifications::Notification;

/// Longest stream title quoted in a `stream.live` title.
pub const LIVE_TITLE_CHARS: usize = 150;

/// A title the server writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Title<'a> {
    /// `who` mentioned the reader.
    Mention {
        who: &'a str,
    },
    /// `who` answered one of the reader's lines.
    Reply {
        who: &'a str,
    },
    /// The reader was timed out on one stream or, `everywhere`, on all.
    Timeout {
        secs: i64,
        everywhere: bool,
    },
    Ban {
        everywhere: bool,
    },
    Unban {
        everywhere: bool,
    },
    /// A followed stream, titled `stream`, went live.
    Live {
        stream: &'a str,
    },
}

impl Title<'_> {
    /// The key stored as `title_key` and sent to clients.
    pub fn key(&self) -> &'static str {
        match self {
            Title::Mention { .. } => "mention",
            Title::Reply { .. } => "reply",
            Title::Timeout { .. } => "timeout",
            Title::Ban { .. } => "ban",
            Title::Unban { .. } => "unban",
            Title::Live { .. } => "live",
        }
    }

    /// The arguments stored as `title_args`, all strings.
    pub fn args(&self) -> BTreeMap<String, String> {
        let scope = |everywhere: bool| if everywhere { "tenant" } else { "stream" };
        let pairs: Vec<(&str, String)> = match *self {
            Title::Mention { who } | Title::Reply { who } => vec![("who", who.to_owned())],
            Title::Timeout { secs, everywhere } => vec![
                ("secs", secs.to_string()),
                ("scope", scope(everywhere).to_owned()),
            ],
            Title::Ban { everywhere } | Title::Unban { everywhere } => {
                vec![("scope", scope(everywhere).to_owned())]
            }
            Title::Live { stream } => vec![("stream", quoted(stream))],
        };
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// The English wording, stored as `title`.
    pub fn english(&self) -> String {
        word(self.key(), &self.args(), Locale::En).unwrap_or_else(|| self.key().to_owned())
    }
}

impl Notification {
    /// This notification with its title in `locale`, when the server wrote
    /// it (borrowed as is otherwise).
    pub fn worded(&self, locale: Locale) -> Cow<'_, Notification> {
        match self.title_in(locale) {
            Some(title) => Cow::Owned(Notification {
                title,
                ..self.clone()
            }),
            None => Cow::Borrowed(self),
        }
    }

    /// [`Notification::worded`], in place.
    pub fn into_worded(mut self, locale: Locale) -> Notification {
        if let Some(title) = self.title_in(locale) {
            self.title = title;
        }
        self
    }

    /// The title in `locale` when it differs from the stored one.
    fn title_in(&self, locale: Locale) -> Option<String> {
        let key = self.title_key.as_deref()?;
        word(key, &self.title_args, locale).filter(|t| *t != self.title)
    }
}

/// A stream title cut to [`LIVE_TITLE_CHARS`], with an ellipsis when cut.
fn quoted(title: &str) -> String {
    let mut quoted: String = title.chars().take(LIVE_TITLE_CHARS).collect();
    if quoted.len() < title.len() {
        quoted.push('…');
    }
    quoted
}

/// Title `key` with `args` in `locale`; `None` for a key or arguments this
/// version does not know (the stored English title is shown then).
pub fn word(key: &str, args: &BTreeMap<String, String>, locale: Locale) -> Option<String> {
    let arg = |name: &str| args.get(name).map(String::as_str);
    let everywhere = arg("scope") == Some("tenant");
    let scoped = |id: &str| {
        if everywhere {
            format!("note-{id}-everywhere")
        } else {
            format!("note-{id}")
        }
    };
    Some(match key {
        "mention" | "reply" => text_with(locale, &format!("note-{key}"), &[("who", arg("who")?)]),
        "timeout" => {
            let secs: i64 = arg("secs")?.parse().ok()?;
            let duration = duration(locale, secs);
            text_with(locale, &scoped("timeout"), &[("duration", &duration)])
        }
        "ban" | "unban" => text(locale, &scoped(key)),
        "live" => text_with(locale, "note-live", &[("stream", arg("stream")?)]),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_worded_in_each_language() {
        let mention = Title::Mention { who: "alice" };
        assert_eq!(mention.english(), "alice mentioned you");
        assert_eq!(
            word("mention", &mention.args(), Locale::Ja).as_deref(),
            Some("alice さんがあなたをメンションしました")
        );
        let timeout = Title::Timeout {
            secs: 600,
            everywhere: true,
        };
        assert_eq!(
            timeout.english(),
            "You were timed out for 10 minutes on every stream"
        );
        assert_eq!(
            word("timeout", &timeout.args(), Locale::Ja).as_deref(),
            Some("すべての配信で10分のタイムアウトを受けました")
        );
        assert_eq!(
            Title::Ban { everywhere: false }.english(),
            "You were banned from this stream"
        );
        assert_eq!(
            Title::Unban { everywhere: true }.english(),
            "Your ban on every stream was lifted"
        );
    }

    #[test]
    fn unknown_keys_and_missing_arguments_fall_back_to_the_stored_title() {
        assert_eq!(word("later", &BTreeMap::new(), Locale::Ja), None);
        assert_eq!(word("mention", &BTreeMap::new(), Locale::Ja), None);
        let bad = Title::Timeout {
            secs: 5,
            everywhere: false,
        }
        .args()
        .into_iter()
        .map(|(k, v)| (k, if v == "5" { "x".into() } else { v }))
        .collect();
        assert_eq!(word("timeout", &bad, Locale::En), None);
    }

    #[test]
    fn live_titles_quote_the_stream_title_up_to_a_bound() {
        assert_eq!(
            Title::Live { stream: "Big show" }.english(),
            "Big show is live"
        );
        let long = "x".repeat(400);
        let title = Title::Live { stream: &long }.english();
        assert_eq!(title.chars().count(), 150 + "… is live".chars().count());
    }
}
