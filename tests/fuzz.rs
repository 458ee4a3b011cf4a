//! Property tests ("fuzzing" bounded for CI) over everything that reads
//! client text before anything else does: the frame parser, the length and
//! character checks, the sanitizer and the blocked-term matcher. None may
//! panic on any input, and each keeps its promise about what it returns.
//!
//! CI runs a few thousand cases per property in seconds. Run longer with
//! `PROPTEST_CASES=1000000 cargo test --release --test fuzz`.

use proptest::prelude::*;
use serde_json::{json, Value};
use stampede::charset::{find_control, is_bidi_control, TEXT_WHITESPACE};
use stampede::moderation::blocked_terms::{contains_blocked, normalize, validate_term};
use stampede::moderation::{sanitize, validate_length};
use stampede::wire::{parse_client, ClientFrame, ModCommand};

fn cases() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    ProptestConfig::with_cases(cases)
}

/// Text that leans on what breaks parsers: controls, markup, invisible and
/// bidi characters, surrogate-adjacent and astral code points, quotes.
fn nasty_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(|c| c.to_string()),
        Just("<".to_owned()),
        Just("<script>".to_owned()),
        Just("</b>".to_owned()),
        Just("&amp;".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\u{0}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{2066}".to_owned()),
        Just("\u{200B}".to_owned()),
        Just("\u{FEFF}".to_owned()),
        Just("\u{0336}".to_owned()),
        Just("\u{3099}".to_owned()),
        Just("ﾊﾞ".to_owned()),
        Just("а".to_owned()),
        Just(" ".to_owned()),
        "[a-z]{1,3}",
    ];
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

/// Undoes the sanitizer's escaping, as a `textContent` client does.
fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        nasty_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Frames shaped like real ones: known keys with values of any type.
fn frame_like() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just(Value::Null),
        Just(json!("chat.message")),
        Just(json!("reaction")),
        Just(json!("chat.pin")),
        Just(json!("chat.delete")),
        Just(json!("chat.clear")),
        Just(json!("ban")),
        Just(json!("unban")),
        Just(json!("slow_mode")),
        nasty_text().prop_map(Value::from),
    ];
    let keys = [
        "message",
        "stamp_id",
        "id",
        "username",
        "duration_secs",
        "reason",
        "scope",
        "seconds",
    ];
    (
        kind,
        prop::collection::vec((0..keys.len(), json_value()), 0..6),
    )
        .prop_map(move |(kind, fields)| {
            let mut object = serde_json::Map::new();
            if !kind.is_null() {
                object.insert("type".into(), kind);
            }
            for (k, v) in fields {
                object.insert(keys[k].into(), v);
            }
            Value::Object(object).to_string()
        })
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn the_parser_takes_any_text(text in nasty_text()) {
        let _ = parse_client(&text);
    }

    #[test]
    fn the_parser_takes_any_json(value in json_value()) {
        let _ = parse_client(&value.to_string());
    }

    #[test]
    fn parsed_names_and_reasons_hold_no_control_character(frame in frame_like()) {
        if let Ok(ClientFrame::Moderate(command)) = parse_client(&frame) {
            let texts: Vec<String> = match command {
                ModCommand::Ban { username, reason, .. } => {
                    std::iter::once(username).chain(reason).collect()
                }
                ModCommand::Unban { username, .. } => vec![username],
                ModCommand::Clear { username } => username.into_iter().collect(),
                _ => Vec::new(),
            };
            for t in texts {
                prop_assert!(find_control(&t, &[]).is_none(), "{t:?} from {frame}");
            }
        }
    }

    #[test]
    fn accepted_chat_is_inert_visible_and_bounded(text in nasty_text()) {
        let Ok(raw) = validate_length(&text, 50) else { return Ok(()) };
        prop_assert!(raw.chars().count() <= 50);
        prop_assert!(find_control(raw, TEXT_WHITESPACE).is_none());
        if let Ok(clean) = sanitize(raw) {
            // Markup cannot survive: every character HTML reads is escaped.
            prop_assert!(!clean.contains(['<', '>', '"', '\'']), "{clean:?}");
            prop_assert!(!clean.chars().any(is_bidi_control), "{clean:?}");
            prop_assert!(!clean.trim().is_empty());
            // Nothing else is lost: decoding the five entities gives back
            // the typed text, less its bidi controls and outer whitespace.
            let typed: String = raw.chars().filter(|c| !is_bidi_control(*c)).collect();
            prop_assert_eq!(decode_entities(&clean), typed.trim(), "{:?}", clean);
        }
    }

    #[test]
    fn a_term_always_blocks_itself(term in nasty_text(), pad in "[ a-z]{0,5}") {
        let _ = normalize(&term);
        if let Ok(normalized) = validate_term(&term) {
            let text = format!("{pad}{}{pad}", term.trim());
            prop_assert!(contains_blocked(&text, &[normalized]), "{term:?} in {text:?}");
        }
    }
}
