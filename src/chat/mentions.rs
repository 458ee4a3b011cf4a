//! Mentions: `@username` in a line's text names a user of the tenant. The
//! text is scanned here for names; which of them are users is the store's
//! answer (`mentions::Directory`).

/// Most users one line mentions (the rest are not mentions).
pub const MAX_MENTIONS: usize = 10;
/// Most distinct `@names` of one line looked up, so a line of a thousand
/// `@x`s costs one bounded query.
pub const MAX_CANDIDATES: usize = 20;

/// A user a line mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub user_id: i32,
    /// As the account spells it.
    pub username: String,
}

/// The distinct `@names` of `text` (as typed, before escaping), lowercased,
/// in order of first appearance, at most [`MAX_CANDIDATES`]. A name is what
/// usernames are made of (`A-Z a-z 0-9 _ . -`); a trailing `.` or `-` (the
/// end of a sentence) is tried without it too. An `@` inside a word (an
/// e-mail address) does not start one.
pub fn candidates(text: &str) -> Vec<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let starts = c == '@' && !prev.is_some_and(is_name);
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[i + 1..];
        let end = rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
        let name = &rest[..end];
        let trimmed = name.trim_end_matches(['.', '-']);
        for n in [name, trimmed] {
            if !n.is_empty() && n.len() <= 150 {
                let n = n.to_ascii_lowercase();
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        if out.len() >= MAX_CANDIDATES {
            out.truncate(MAX_CANDIDATES);
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_after_an_at_sign_are_candidates() {
        assert_eq!(
            candidates("@Alice hi @bob. and @alice again, mail me@x.test @"),
            vec!["alice", "bob.", "bob"]
        );
        assert_eq!(candidates("こんにちは@mika さん"), vec!["mika"]);
        assert_eq!(candidates("@@carl"), vec!["carl"]);
        assert!(candidates("no mentions").is_empty());
        let many: String = (0..100).map(|i| format!("@u{i} ")).collect();
        assert_eq!(candidates(&many).len(), MAX_CANDIDATES);
    }
}
