//! What a search query asks for: its terms, and how each is matched in SQL.
//!
//! A query is split at whitespace; a line matches when it contains every
//! term, case-insensitively (`public.stampede_search_text`). A term with a
//! run of three letters or digits can use the trigram index; shorter ones
//! ("ok", "草", "w") are only checked on lines found otherwise.

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most terms in one query (each is one more condition on every line).
pub const MAX_TERMS: usize = 8;
/// Letters or digits in a row that give pg_trgm a trigram to look up.
const TRIGRAM: usize = 3;

/// A query refused before it reaches the database.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("q is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("q has more than {MAX_TERMS} words")]
    TooManyTerms,
    #[error("q contains a control character")]
    Control,
}

/// The terms of a query, as typed (SQL lower-cases them like the text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms(Vec<String>);

impl Terms {
    /// Splits `q` at whitespace; an empty or blank `q` gives no terms.
    pub fn parse(q: &str) -> Result<Self, QueryError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        if crate::charset::find_control(q, crate::charset::TEXT_WHITESPACE).is_some() {
            return Err(QueryError::Control);
        }
        let terms: Vec<String> = q.split_whitespace().map(str::to_owned).collect();
        if terms.len() > MAX_TERMS {
            return Err(QueryError::TooManyTerms);
        }
        Ok(Terms(terms))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether the trigram index can find the lines (some term has a
    /// trigram); if not, only a bounded scan of the newest lines can.
    pub fn indexable(&self) -> bool {
        self.0.iter().any(|t| has_trigram(t))
    }

    /// How each term is matched, in order.
    pub fn matchers(&self) -> impl Iterator<Item = Matcher> + '_ {
        self.0.iter().map(|t| {
            if has_trigram(t) {
                Matcher::Like(escape_like(t))
            } else {
                Matcher::Contains(t.clone())
            }
        })
    }
}

/// One term's condition. Terms with a trigram use `LIKE` (the index can
/// answer it); the others `strpos`, which the planner never takes for an
/// index condition (a pattern without trigrams would read the whole index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// The term as a `LIKE` pattern matching itself.
    Like(String),
    /// The term as typed.
    Contains(String),
}

/// Whether `term` holds `TRIGRAM` letters or digits in a row (what pg_trgm
/// extracts from a `LIKE` pattern; punctuation and symbols split words).
fn has_trigram(term: &str) -> bool {
    let mut run = 0;
    for c in term.chars() {
        run = if c.is_alphanumeric() { run + 1 } else { 0 };
        if run >= TRIGRAM {
            return true;
        }
    }
    false
}

/// `term` as a `LIKE` pattern matching itself (the default escape is `\`).
fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_at_whitespace() {
        let terms = Terms::parse("  hello\u{3000}世界 ").unwrap();
        assert_eq!(terms.as_slice(), ["hello", "世界"]);
        assert!(Terms::parse(" ").unwrap().is_empty());
    }

    #[test]
    fn like_metacharacters_match_themselves() {
        assert_eq!(escape_like(r"100%_a\b"), r"100\%\_a\\b");
        let terms = Terms::parse("100%").unwrap();
        assert_eq!(
            terms.matchers().collect::<Vec<_>>(),
            [Matcher::Like(r"100\%".into())]
        );
    }

    #[test]
    fn short_terms_are_not_indexable() {
        assert!(!Terms::parse("ok w 草").unwrap().indexable());
        assert!(!Terms::parse("a.b").unwrap().indexable());
        assert!(Terms::parse("ok こんにちは").unwrap().indexable());
        let mixed = Terms::parse("ok hello").unwrap();
        assert_eq!(
            mixed.matchers().collect::<Vec<_>>(),
            [
                Matcher::Contains("ok".into()),
                Matcher::Like("hello".into())
            ]
        );
    }

    #[test]
    fn oversized_queries_are_refused() {
        assert_eq!(Terms::parse(&"a".repeat(201)), Err(QueryError::TooLong));
        assert_eq!(
            Terms::parse("a b c d e f g h i"),
            Err(QueryError::TooManyTerms)
        );
        assert_eq!(Terms::parse("a\u{0}b"), Err(QueryError::Control));
    }
}
