//! Japanese and English. Every word the pages and `watch.js` show comes
//! from the Fluent catalogs in `locales/` (built into the binary), in the
//! language chosen for the request ([`choice`]): the `lang` cookie set by
//! the switch in the page header, else the browser's `Accept-Language`,
//! else English.

mod catalog;
pub mod choice;
mod duration;
mod zone;

pub use catalog::{text, text_with};
pub use choice::I18n;
pub use duration::duration;
pub use zone::Zone;

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    #[default]
    En,
    Ja,
}

impl Locale {
    /// Every locale, in the switch's order.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Ja];

    /// The BCP 47 code (`lang` attributes, the cookie, the switch).
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ja => "ja",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Ja => "日本語",
        }
    }

    /// `en`, `ja`, or a regional variant of them (`ja-JP`, `en-GB`).
    pub fn parse(code: &str) -> Option<Locale> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            "ja" => Some(Locale::Ja),
            _ => None,
        }
    }

    /// The best of ours for an `Accept-Language` value (by q-value, then
    /// order); `None` when it names neither.
    pub fn negotiate(accept_language: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.split(',').take(32) {
            let mut fields = part.split(';');
            let Some(locale) = fields.next().and_then(Locale::parse) else {
                continue;
            };
            let q = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, locale)| locale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_languages_pick_ours() {
        assert_eq!(
            Locale::negotiate("ja-JP,ja;q=0.9,en;q=0.8"),
            Some(Locale::Ja)
        );
        assert_eq!(
            Locale::negotiate("en-US,en;q=0.9,ja;q=0.8"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::negotiate("fr-FR,ja;q=0.5,en;q=0.4"),
            Some(Locale::Ja)
        );
        assert_eq!(Locale::negotiate("fr, de;q=0.5"), None);
        assert_eq!(Locale::negotiate("ja;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(Locale::negotiate(""), None);
        assert_eq!(Locale::parse("JA_jp"), Some(Locale::Ja));
        assert_eq!(Locale::parse("jav"), None);
    }
}
