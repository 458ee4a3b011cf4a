//! The Fluent catalogs, parsed once. A message missing from a catalog falls
//! back to English, then to its id (a test keeps the catalogs complete).

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

use super::Locale;

const EN: &str = include_str!("../../locales/en.ftl");
const JA: &str = include_str!("../../locales/ja.ftl");

struct Catalogs {
    en: FluentBundle<FluentResource>,
    ja: FluentBundle<FluentResource>,
}

static CATALOGS: LazyLock<Catalogs> = LazyLock::new(|| Catalogs {
    en: bundle(Locale::En, EN),
    ja: bundle(Locale::Ja, JA),
});

fn bundle(locale: Locale, source: &str) -> FluentBundle<FluentResource> {
    let id = locale.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Text goes into HTML and JSON, where Unicode isolation marks around
    // arguments would only be noise.
    bundle.set_use_isolating(false);
    // The catalogs are ours and parsed in a unit test; a broken entry is
    // left out rather than taking the server down.
    let resource =
        FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
    let _ = bundle.add_resource(resource);
    bundle
}

fn catalog(locale: Locale) -> &'static FluentBundle<FluentResource> {
    match locale {
        Locale::En => &CATALOGS.en,
        Locale::Ja => &CATALOGS.ja,
    }
}

/// The message `id` in `locale`.
pub fn text(locale: Locale, id: &str) -> String {
    text_with(locale, id, &[])
}

/// The message `id` in `locale`, with `{ $name }` arguments.
pub fn text_with(locale: Locale, id: &str, args: &[(&str, &str)]) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, *value);
    }
    for bundle in [catalog(locale), catalog(Locale::En)] {
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle
                .format_pattern(pattern, Some(&fluent_args), &mut errors)
                .into_owned();
        }
    }
    id.to_owned()
}

/// The ids of every message of `locale`'s catalog starting with `prefix`.
pub(super) fn ids(locale: Locale, prefix: &str) -> Vec<String> {
    let source = match locale {
        Locale::En => EN,
        Locale::Ja => JA,
    };
    FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(partial, _)| partial)
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .filter(|id| id.starts_with(prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_parse_and_hold_the_same_messages() {
        for (locale, source) in [(Locale::En, EN), (Locale::Ja, JA)] {
            assert!(
                FluentResource::try_new(source.to_owned()).is_ok(),
                "{} catalog does not parse",
                locale.code()
            );
        }
        let mut en = ids(Locale::En, "");
        let mut ja = ids(Locale::Ja, "");
        en.sort();
        ja.sort();
        let only_en: Vec<_> = en.iter().filter(|id| !ja.contains(id)).collect();
        let only_ja: Vec<_> = ja.iter().filter(|id| !en.contains(id)).collect();
        assert!(
            only_en.is_empty() && only_ja.is_empty(),
            "untranslated: {only_en:?}, unknown: {only_ja:?}"
        );
    }

    #[test]
    fn messages_format_with_arguments_and_fall_back() {
        assert_eq!(text(Locale::En, "nav-log-out"), "Log out");
        assert_eq!(text(Locale::Ja, "nav-log-out"), "ログアウト");
        assert_eq!(text(Locale::Ja, "no-such-message"), "no-such-message");
    }
}
