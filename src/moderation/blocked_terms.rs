//! Blocked terms: matching that look-alike tricks don't slip past.
//!
//! Text and terms are compared after NFKC normalisation (full-width `ｂａｄ`
//! and ligatures become `bad`), lower-casing, and removal of invisible
//! characters (zero-width spaces and joiners, soft hyphens, variation
//! selectors) that could otherwise split a word.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use unicode_normalization::UnicodeNormalization;

use crate::store::moderation;
use crate::store::StoreError;
use crate::tenant::Tenant;

/// The comparable form of a text or term.
pub fn normalize(text: &str) -> String {
    text.nfkc()
        .filter(|c| !is_invisible(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// A term must normalise to 1–100 characters.
pub fn validate_term(term: &str) -> Result<String, String> {
    let normalized = normalize(term.trim());
    let len = normalized.chars().count();
    if len == 0 || len > 100 || term.chars().count() > 100 {
        return Err("a blocked term must be 1-100 characters".into());
    }
    Ok(normalized)
}

/// True if `text` contains any of the normalised `terms`.
pub fn contains_blocked(text: &str, terms: &[String]) -> bool {
    if terms.is_empty() {
        return false;
    }
    let text = normalize(text);
    terms.iter().any(|t| text.contains(t.as_str()))
}

/// How long a tenant's list is trusted before it is read again; changes made
/// on this node apply at once (see [`BlockedTerms::invalidate`]).
const TTL: Duration = Duration::from_secs(10);

/// Per tenant: when the list was loaded, and the list.
type TermCache = HashMap<i32, (Instant, Arc<Vec<String>>)>;

/// Normalised blocked terms per tenant, cached. Cheap to clone.
#[derive(Clone)]
pub struct BlockedTerms {
    pool: PgPool,
    cache: Arc<RwLock<TermCache>>,
}

impl BlockedTerms {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Arc::default(),
        }
    }

    /// The tenant's normalised terms.
    pub async fn terms(&self, tenant: &Tenant) -> Result<Arc<Vec<String>>, StoreError> {
        if let Some((at, terms)) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&tenant.id)
        {
            if at.elapsed() < TTL {
                return Ok(terms.clone());
            }
        }
        let terms: Arc<Vec<String>> = Arc::new(
            moderation::blocked_terms(&self.pool, &tenant.schema)
                .await?
                .into_iter()
                .map(|(_, normalized)| normalized)
                .collect(),
        );
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.id, (Instant::now(), terms.clone()));
        Ok(terms)
    }

    /// Forgets a tenant's list after it changed.
    pub fn invalidate(&self, tenant_id: i32) {
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&tenant_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_are_caught() {
        let terms = vec![normalize("badword")];
        for text in [
            "this is a badword",
            "BADWORD!",
            "ｂａｄｗｏｒｄ",  // full-width
            "bad\u{200B}word", // zero-width space
            "b\u{00AD}adword", // soft hyphen
            "ＢａｄＷｏｒｄ",
        ] {
            assert!(contains_blocked(text, &terms), "{text:?}");
        }
        assert!(!contains_blocked("bad word", &terms));
        assert!(!contains_blocked("good words", &terms));
    }

    #[test]
    fn terms_are_validated() {
        assert_eq!(validate_term("  ＳＰＡＭ ").unwrap(), "spam");
        assert!(validate_term("   ").is_err());
        assert!(validate_term("\u{200B}").is_err());
        assert!(validate_term(&"x".repeat(101)).is_err());
    }
}
