//! Blocked terms: matching that look-alike tricks don't slip past.
//!
//! Text and terms are compared in one comparable form: NFKC (full-width
//! `ｂａｄ` and ligatures become `bad`), invisible characters removed (zero-width
//! spaces and joiners, soft hyphens, variation selectors could split a word),
//! lower case, then the Unicode TR39 confusable skeleton (Cyrillic `а` and
//! Greek `ο` become Latin `a` and `o`) with the diacritics that can be
//! stacked on letters removed (`b̶a̶d̶`). Text is also tried with single
//! letters spaced out joined again (`b a d`, `b.a.d`), so a term cannot be
//! slipped through one letter at a time, and with tag-like markup removed
//! (`spo<b></b>iler`; see [`remove_tags`]). Both sides get the same mapping, so
//! a term also matches its look-alikes (`com` matches `corn`): the price of
//! catching `rn` spelt for `m`.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use sqlx::PgPool;
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

use crate::charset::is_invisible;
use crate::store::{blocked_terms as store, StoreError};
use crate::tenant::Tenant;

/// The comparable form of a text or term.
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .nfkc()
        .filter(|c| !is_invisible(*c))
        .flat_map(char::to_lowercase)
        .collect();
    // Not lower-cased again: the skeleton's prototypes are fixed characters
    // (`l` becomes `I`), and folding them would merge more than look-alikes.
    skeleton(&folded)
        .filter(|c| !is_stackable_mark(*c))
        .collect()
}

/// Combining marks that decorate Latin, Greek and Cyrillic letters (accents,
/// strokes, overlays). Marks that belong to a script's spelling, such as the
/// kana voicing marks (`が` is not `か`), are kept.
fn is_stackable_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Joins runs of at least three single letters set apart by spaces or
/// punctuation (`b a d`, `b-a-d`); `None` if there is no such run.
fn join_spaced_letters(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let is_word = |i: usize| chars.get(i).is_some_and(|c| c.is_alphanumeric());
    // A letter standing alone between separators (or the text's ends).
    let single: Vec<bool> = (0..chars.len())
        .map(|i| is_word(i) && (i == 0 || !is_word(i - 1)) && !is_word(i + 1))
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut joined = false;
    let mut i = 0;
    while i < chars.len() {
        if !single[i] {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Collect the run: single, separators, single, ...
        let mut letters = vec![chars[i]];
        let mut end = i + 1;
        let mut j = i + 1;
        while j < chars.len() {
            let mut k = j;
            while k < chars.len() && !is_word(k) {
                k += 1;
            }
            if k == j || k >= chars.len() || !single[k] {
                break;
            }
            letters.push(chars[k]);
            end = k + 1;
            j = k + 1;
        }
        if letters.len() >= 3 {
            out.extend(letters);
            joined = true;
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    joined.then_some(out)
}

/// `text` without its tag-like spans (`<` then a letter, `/` or `!`, up to
/// the next `>`); `None` if it has none.
///
/// Chat text is shown as typed (escaped, not stripped), so `spo<b></b>iler`
/// displays with its tags. It is blocked all the same: the word stays easy to
/// read through the tags, and moderators expect markup not to be a way
/// around their list. Only the typed text is matched, never its escaped
/// form, whose entity names (`amp`, `lt`, `gt`, `quot`) nobody sees and would
/// match terms that were not typed.
fn remove_tags(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut removed = false;
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '/' || c == '!');
        match after.find('>').filter(|_| opens_tag) {
            Some(end) => {
                out.push_str(&rest[..start]);
                rest = &after[end + 1..];
                removed = true;
            }
            None => {
                out.push_str(&rest[..=start]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    removed.then_some(out)
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
    let forms = matching_forms(text);
    forms
        .iter()
        .any(|f| terms.iter().any(|t| f.contains(t.as_str())))
}

/// The forms of `text` a normalised term is looked for in: normalised,
/// with tags removed, with spaced-out letters joined. Computed once when
/// several lists are matched against one text (auto-moderation).
pub fn matching_forms(text: &str) -> Vec<String> {
    let text = normalize(text);
    // After normalising, so full-width `＜ｂ＞` counts as a tag too.
    let untagged = remove_tags(&text);
    let mut forms = vec![text];
    forms.extend(untagged);
    let joined: Vec<String> = forms
        .iter()
        .filter_map(|f| join_spaced_letters(f))
        .collect();
    forms.extend(joined);
    forms
}

/// How long a tenant's list is trusted before it is read again; changes made
/// on this node apply at once (see [`BlockedTerms::invalidate`]).
const TTL: Duration = Duration::from_secs(10);

/// Tenants whose list is kept at most.
const TENANTS: u64 = 10_000;

/// Normalised blocked terms per tenant, cached. Cheap to clone.
#[derive(Clone)]
pub struct BlockedTerms {
    pool: PgPool,
    cache: Cache<i32, Arc<Vec<String>>>,
}

impl BlockedTerms {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Cache::builder()
                .max_capacity(TENANTS)
                .time_to_live(TTL)
                .build(),
        }
    }

    /// The tenant's normalised terms.
    pub async fn terms(&self, tenant: &Tenant) -> Result<Arc<Vec<String>>, StoreError> {
        if let Some(terms) = self.cache.get(&tenant.id) {
            return Ok(terms);
        }
        let terms: Arc<Vec<String>> = Arc::new(
            store::all(&self.pool, &tenant.schema)
                .await?
                .into_iter()
                // Normalised again rather than read from the stored form,
                // so a change to the mapping applies to old terms too.
                .map(|(term, _)| normalize(&term.term))
                .collect(),
        );
        self.cache.insert(tenant.id, terms.clone());
        Ok(terms)
    }

    /// Forgets a tenant's list after it changed.
    pub fn invalidate(&self, tenant_id: i32) {
        self.cache.invalidate(&tenant_id);
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
    fn confusables_marks_and_spacing_are_caught() {
        let terms = vec![normalize("badword")];
        for text in [
            "b\u{0430}dword",                  // Cyrillic a
            "bаdwоrd",                         // Cyrillic a and o
            "b\u{0251}dword",                  // Latin alpha
            "b\u{0336}a\u{0336}d\u{0336}word", // strike-through overlay
            "bädwörd",
            "b a d w o r d",
            "b.a.d.w.o.r.d!",
            "say b-a-d-w-o-r-d now",
            "ＢＡＤＷＯＲＤ",
        ] {
            assert!(contains_blocked(text, &terms), "{text:?}");
        }
        assert!(!contains_blocked("a bad word", &terms));
        assert!(!contains_blocked("b a d", &terms));
    }

    #[test]
    fn kana_voicing_is_kept() {
        let terms = vec![normalize("バカ")];
        assert!(contains_blocked("お前はバカだ", &terms));
        assert!(contains_blocked("ﾊﾞｶ", &terms)); // half-width
        assert!(!contains_blocked("ハカ", &terms));
    }

    #[test]
    fn spaced_letters_join_only_in_runs_of_three() {
        assert_eq!(join_spaced_letters("x b a d y").as_deref(), Some("xbady"));
        assert_eq!(join_spaced_letters("I am a cat"), None);
        assert_eq!(
            join_spaced_letters("say b-a-d now").as_deref(),
            Some("say bad now")
        );
    }

    #[test]
    fn terms_split_by_markup_are_caught() {
        let terms = vec![normalize("spoiler")];
        for text in [
            "spo<b></b>iler",
            "big spo<i>il</i>er ahead",
            "spo</x>iler",
            "spo<!-- -->iler",
            "ｓｐｏ＜ｂ＞ｉｌｅｒ",
            "s p o <b></b> i l e r",
        ] {
            assert!(contains_blocked(text, &terms), "{text:?}");
        }
        // Not a tag: nothing is removed, nothing is joined.
        assert!(!contains_blocked("spo < iler", &terms));
        assert!(!contains_blocked("spo<3 iler>", &terms));
        assert!(!contains_blocked("spo<iler", &terms));
    }

    #[test]
    fn tags_are_removed_only_when_they_look_like_tags() {
        assert_eq!(remove_tags("a<b>c</b>d").as_deref(), Some("acd"));
        assert_eq!(remove_tags("1 < 2 > 0"), None);
        assert_eq!(remove_tags("x<y"), None);
        assert_eq!(remove_tags("<<b>").as_deref(), Some("<"));
        assert_eq!(remove_tags("ä<ö>ü").as_deref(), Some("äü"));
    }

    #[test]
    fn terms_are_validated() {
        assert_eq!(validate_term("  ＳＰＡＭ ").unwrap(), normalize("spam"));
        assert!(validate_term("   ").is_err());
        assert!(validate_term("\u{200B}").is_err());
        assert!(validate_term(&"x".repeat(101)).is_err());
    }
}
