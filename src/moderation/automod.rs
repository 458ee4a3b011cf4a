//! Auto-moderation: per-tenant rules that **hold** a chat line for a
//! moderator's review instead of refusing it (refusing is what blocked terms
//! do). Each rule a line trips adds its weight to the line's score; a line
//! whose score reaches `hold_score` is held, with the tripped rules as its
//! reasons. With every weight at its default (100, the default
//! `hold_score`), any one rule holds a line; lower weights make rules that
//! only hold together ("caps *and* repeated characters").
//!
//! Moderators, streamers and admins are never held. The rules are read
//! from `chat_automod` and cached per tenant like blocked terms (changes on
//! this node apply at once, on others within [`TTL`]).

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::blocked_terms::{matching_forms, validate_term};
use crate::store::audit_log::{self, Action, AuditEntry};
use crate::store::{automod as store, StoreError};
use crate::tenant::Tenant;

/// How long a tenant's rules are trusted before they are read again.
pub const TTL: Duration = Duration::from_secs(10);
const TENANTS: u64 = 10_000;
/// Terms per list at most.
pub const MAX_TERMS: usize = 200;
/// The largest weight or score (keeps sums far from overflow).
const MAX_WEIGHT: u32 = 10_000;

/// A tenant's rules, as `GET/PUT /api/automod` reads and writes them.
/// Every field may be left out of a PUT (its default applies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Off: nothing is held.
    pub enabled: bool,
    /// The score at which a line is held.
    pub hold_score: u32,
    /// Links (`http://`, `www.`, `name.com`) from accounts younger than
    /// `min_account_days`.
    pub young_account_links: YoungAccountLinks,
    /// The same text as the user's previous line (any room of the tenant).
    pub repeats: Rule,
    /// At least `min_percent` % capitals among at least `min_letters`
    /// letters that have case (Japanese text has none, so never trips).
    pub caps: Caps,
    /// One character `max_run` or more times in a row.
    pub repeated_chars: RepeatedChars,
    /// Terms that hold a line (blocked terms refuse it); matched like
    /// blocked terms (case, width, look-alikes, spacing).
    pub held_terms: HeldTerms,
    /// Terms that add their own weight to the score, each at most once.
    pub scored_terms: Vec<ScoredTerm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    pub enabled: bool,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct YoungAccountLinks {
    pub enabled: bool,
    pub min_account_days: u32,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Caps {
    pub enabled: bool,
    pub min_percent: u32,
    pub min_letters: u32,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatedChars {
    pub enabled: bool,
    pub max_run: u32,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HeldTerms {
    pub enabled: bool,
    pub terms: Vec<String>,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoredTerm {
    pub term: String,
    pub weight: u32,
}

const DEFAULT_WEIGHT: u32 = 100;

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: false,
            hold_score: DEFAULT_WEIGHT,
            young_account_links: YoungAccountLinks::default(),
            repeats: Rule::default(),
            caps: Caps::default(),
            repeated_chars: RepeatedChars::default(),
            held_terms: HeldTerms::default(),
            scored_terms: Vec::new(),
        }
    }
}

impl Default for Rule {
    fn default() -> Self {
        Self {
            enabled: true,
            weight: DEFAULT_WEIGHT,
        }
    }
}

impl Default for YoungAccountLinks {
    fn default() -> Self {
        Self {
            enabled: true,
            min_account_days: 7,
            weight: DEFAULT_WEIGHT,
        }
    }
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            enabled: true,
            min_percent: 70,
            min_letters: 10,
            weight: DEFAULT_WEIGHT,
        }
    }
}

impl Default for RepeatedChars {
    fn default() -> Self {
        Self {
            enabled: true,
            max_run: 10,
            weight: DEFAULT_WEIGHT,
        }
    }
}

impl Default for HeldTerms {
    fn default() -> Self {
        Self {
            enabled: true,
            terms: Vec::new(),
            weight: DEFAULT_WEIGHT,
        }
    }
}

/// Why a line was held, as `chat.held`'s `reasons` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Reason {
    YoungAccountLink,
    Repeat,
    Caps,
    RepeatedChars,
    HeldTerm,
    ScoredTerms,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a stored reason back; unknown spellings are dropped.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// Rules ready to apply: validated, terms normalised.
#[derive(Debug, Clone)]
pub struct Rules {
    pub settings: Settings,
    held_terms: Vec<String>,
    scored_terms: Vec<(String, u32)>,
}

/// What a rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// As typed.
    pub raw: &'a str,
    /// The sender's previous line as stored (HTML-escaped), if read.
    pub previous: Option<&'a str>,
    /// As stored: the escaped form of `raw`, compared with `previous`.
    pub clean: &'a str,
    /// Days since the sender's account was created, if read.
    pub account_age_days: Option<i64>,
}

impl Settings {
    /// Checks the bounds and normalises the terms.
    pub fn compile(self) -> Result<Rules, String> {
        let weight = |name: &str, w: u32| {
            if w > MAX_WEIGHT {
                Err(format!("{name}: weight must be 0-{MAX_WEIGHT}"))
            } else {
                Ok(())
            }
        };
        if !(1..=MAX_WEIGHT).contains(&self.hold_score) {
            return Err(format!("hold_score must be 1-{MAX_WEIGHT}"));
        }
        weight("young_account_links", self.young_account_links.weight)?;
        weight("repeats", self.repeats.weight)?;
        weight("caps", self.caps.weight)?;
        weight("repeated_chars", self.repeated_chars.weight)?;
        weight("held_terms", self.held_terms.weight)?;
        if !(1..=3650).contains(&self.young_account_links.min_account_days) {
            return Err("young_account_links.min_account_days must be 1-3650".into());
        }
        if !(1..=100).contains(&self.caps.min_percent) {
            return Err("caps.min_percent must be 1-100".into());
        }
        if !(1..=1000).contains(&self.caps.min_letters) {
            return Err("caps.min_letters must be 1-1000".into());
        }
        if !(2..=1000).contains(&self.repeated_chars.max_run) {
            return Err("repeated_chars.max_run must be 2-1000".into());
        }
        if self.held_terms.terms.len() > MAX_TERMS || self.scored_terms.len() > MAX_TERMS {
            return Err(format!("at most {MAX_TERMS} terms per list"));
        }
        let held_terms = self
            .held_terms
            .terms
            .iter()
            .map(|t| validate_term(t))
            .collect::<Result<Vec<_>, _>>()?;
        let scored_terms = self
            .scored_terms
            .iter()
            .map(|s| {
                weight("scored_terms", s.weight)?;
                Ok((validate_term(&s.term)?, s.weight))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Rules {
            settings: self,
            held_terms,
            scored_terms,
        })
    }
}

impl Rules {
    /// Holds nothing.
    pub fn off() -> Self {
        Self {
            settings: Settings::default(),
            held_terms: Vec::new(),
            scored_terms: Vec::new(),
        }
    }

    /// Whether checking a line needs the sender's previous line.
    pub fn wants_previous(&self) -> bool {
        self.settings.enabled && self.settings.repeats.enabled
    }

    /// Whether checking `raw` needs the sender's account age.
    pub fn wants_age(&self, raw: &str) -> bool {
        self.settings.enabled && self.settings.young_account_links.enabled && has_link(raw)
    }

    /// The reasons to hold the line, or `None` to let it through.
    pub fn verdict(&self, subject: &Subject<'_>) -> Option<Vec<Reason>> {
        let s = &self.settings;
        if !s.enabled {
            return None;
        }
        let mut tripped: Vec<(Reason, u32)> = Vec::new();
        let young = subject
            .account_age_days
            .is_some_and(|days| days < i64::from(s.young_account_links.min_account_days));
        if s.young_account_links.enabled && young && has_link(subject.raw) {
            tripped.push((Reason::YoungAccountLink, s.young_account_links.weight));
        }
        let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        if s.repeats.enabled && subject.previous.is_some_and(|p| same(p, subject.clean)) {
            tripped.push((Reason::Repeat, s.repeats.weight));
        }
        if s.caps.enabled && shouting(subject.raw, s.caps.min_percent, s.caps.min_letters) {
            tripped.push((Reason::Caps, s.caps.weight));
        }
        if s.repeated_chars.enabled && longest_run(subject.raw) >= s.repeated_chars.max_run {
            tripped.push((Reason::RepeatedChars, s.repeated_chars.weight));
        }
        if (s.held_terms.enabled && !self.held_terms.is_empty()) || !self.scored_terms.is_empty() {
            let forms = matching_forms(subject.raw);
            let has = |t: &str| forms.iter().any(|f| f.contains(t));
            if s.held_terms.enabled && self.held_terms.iter().any(|t| has(t)) {
                tripped.push((Reason::HeldTerm, s.held_terms.weight));
            }
            let scored: u32 = self
                .scored_terms
                .iter()
                .filter(|(t, _)| has(t))
                .map(|(_, w)| *w)
                .sum();
            if scored > 0 {
                tripped.push((Reason::ScoredTerms, scored));
            }
        }
        let score: u32 = tripped.iter().map(|(_, w)| *w).sum();
        (score >= s.hold_score && score > 0).then(|| {
            tripped
                .into_iter()
                .filter(|(_, w)| *w > 0)
                .map(|(r, _)| r)
                .collect()
        })
    }
}

/// A web address: a scheme, `www.`, or a name ending in a common
/// top-level domain (`spam.com/x`).
pub fn has_link(raw: &str) -> bool {
    const TLDS: &[&str] = &[
        "com", "net", "org", "io", "jp", "co", "xyz", "ly", "gg", "tv", "me", "info", "biz", "ru",
        "cn", "link", "site", "online", "top", "app", "dev",
    ];
    let text = raw.to_lowercase();
    if text.contains("://") || text.contains("www.") {
        return true;
    }
    text.split(|c: char| c.is_whitespace())
        .filter_map(|word| {
            let host = word.split('/').next()?;
            let (name, tld) = host.rsplit_once('.')?;
            let tld = tld.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            let name_ok = name.rsplit('.').next().is_some_and(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
            Some(name_ok && TLDS.contains(&tld))
        })
        .any(|hit| hit)
}

/// At least `min_percent` % capitals among at least `min_letters` cased letters.
fn shouting(raw: &str, min_percent: u32, min_letters: u32) -> bool {
    let (upper, lower) = raw.chars().fold((0u32, 0u32), |(u, l), c| {
        (
            u + u32::from(c.is_uppercase()),
            l + u32::from(c.is_lowercase()),
        )
    });
    let letters = upper + lower;
    letters >= min_letters && upper * 100 >= min_percent * letters
}

/// The longest run of one character, spaces aside.
fn longest_run(raw: &str) -> u32 {
    let mut best = 0;
    let mut run = 0;
    let mut last = None;
    for c in raw.chars() {
        if c.is_whitespace() {
            last = None;
            run = 0;
            continue;
        }
        run = if last == Some(c) { run + 1 } else { 1 };
        last = Some(c);
        best = best.max(run);
    }
    best
}

/// The tenants' rules, cached. Cheap to clone.
#[derive(Clone)]
pub struct AutoMod {
    pool: PgPool,
    cache: Cache<i32, Arc<Rules>>,
}

impl AutoMod {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Cache::builder()
                .max_capacity(TENANTS)
                .time_to_live(TTL)
                .build(),
        }
    }

    /// The tenant's rules (the defaults, off, until an admin saves some).
    pub async fn rules(&self, tenant: &Tenant) -> Result<Arc<Rules>, StoreError> {
        if let Some(rules) = self.cache.get(&tenant.id) {
            return Ok(rules);
        }
        let settings = store::settings(&self.pool, &tenant.schema)
            .await?
            .and_then(|v| serde_json::from_value::<Settings>(v).ok())
            .unwrap_or_default();
        // Stored settings were validated when saved; should a row be
        // edited by hand into something invalid, nothing is held.
        let rules = Arc::new(settings.compile().unwrap_or_else(|err| {
            tracing::warn!(tenant = %tenant.schema, error = %err, "invalid stored automod settings ignored");
            Rules::off()
        }));
        self.cache.insert(tenant.id, rules.clone());
        Ok(rules)
    }

    /// Validates and stores the tenant's rules; they apply on this node at once.
    pub async fn save(
        &self,
        tenant: &Tenant,
        actor_id: i32,
        settings: Settings,
    ) -> Result<Arc<Rules>, SaveError> {
        let rules = Arc::new(settings.compile().map_err(SaveError::Invalid)?);
        let json =
            serde_json::to_value(&rules.settings).map_err(|e| SaveError::Invalid(e.to_string()))?;
        // The change and its audit entry commit together.
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        store::save_settings(&mut tx, &tenant.schema, &json, actor_id).await?;
        let entry = AuditEntry {
            stream_id: None,
            actor_id,
            action: Action::Automod,
            target_user_id: None,
            target_message_id: None,
            details: json,
        };
        audit_log::insert(&mut tx, &tenant.schema, entry).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.cache.insert(tenant.id, rules.clone());
        Ok(rules)
    }

    /// Why a line from `user_id` should be held, or `None` to let it through.
    pub async fn check(
        &self,
        tenant: &Tenant,
        user_id: i32,
        raw: &str,
        clean: &str,
    ) -> Result<Option<Vec<Reason>>, StoreError> {
        self.check_text(tenant, user_id, raw, clean, true).await
    }

    /// Like [`AutoMod::check`] for an edit's new text, which is not a new
    /// line: it is not compared with the user's previous line (that may be
    /// the very line edited).
    pub async fn check_edit(
        &self,
        tenant: &Tenant,
        user_id: i32,
        raw: &str,
        clean: &str,
    ) -> Result<Option<Vec<Reason>>, StoreError> {
        self.check_text(tenant, user_id, raw, clean, false).await
    }

    async fn check_text(
        &self,
        tenant: &Tenant,
        user_id: i32,
        raw: &str,
        clean: &str,
        repeats: bool,
    ) -> Result<Option<Vec<Reason>>, StoreError> {
        let rules = self.rules(tenant).await?;
        if !rules.settings.enabled {
            return Ok(None);
        }
        let previous = match repeats && rules.wants_previous() {
            true => store::previous_line(&self.pool, &tenant.schema, user_id).await?,
            false => None,
        };
        let account_age_days = match rules.wants_age(raw) {
            true => store::account_age_days(&self.pool, &tenant.schema, user_id).await?,
            false => None,
        };
        Ok(rules.verdict(&Subject {
            raw,
            clean,
            previous: previous.as_deref(),
            account_age_days,
        }))
    }
}

/// Why rules were not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(edit: impl FnOnce(&mut Settings)) -> Rules {
        let mut s = Settings {
            enabled: true,
            ..Settings::default()
        };
        edit(&mut s);
        s.compile().expect("valid")
    }

    fn verdict(rules: &Rules, raw: &str) -> Option<Vec<Reason>> {
        rules.verdict(&Subject {
            raw,
            clean: raw,
            previous: None,
            account_age_days: Some(365),
        })
    }

    #[test]
    fn each_rule_alone_holds_at_default_weights() {
        let r = rules(|s| s.held_terms.terms = vec!["spoiler".into()]);
        assert_eq!(verdict(&r, "hello there"), None);
        assert_eq!(
            verdict(&r, "THIS IS SO LOUD RIGHT NOW"),
            Some(vec![Reason::Caps])
        );
        assert_eq!(verdict(&r, "OK"), None, "too few letters to shout");
        assert_eq!(
            verdict(&r, "こんにちは！ＯＫ"),
            None,
            "Japanese has no case"
        );
        assert_eq!(
            verdict(&r, "woooooooooooow"),
            Some(vec![Reason::RepeatedChars])
        );
        assert_eq!(
            verdict(&r, "the ＳＰＯＩＬＥＲ is"),
            Some(vec![Reason::HeldTerm])
        );
        let young = Subject {
            raw: "see spam.com/x",
            clean: "see spam.com/x",
            previous: Some("earlier"),
            account_age_days: Some(2),
        };
        assert_eq!(r.verdict(&young), Some(vec![Reason::YoungAccountLink]));
        let repeat = Subject {
            raw: "buy now",
            clean: "buy now",
            previous: Some("BUY NOW "),
            account_age_days: Some(2),
        };
        assert_eq!(r.verdict(&repeat), Some(vec![Reason::Repeat]));
    }

    #[test]
    fn weights_add_up_to_the_hold_score() {
        let r = rules(|s| {
            s.caps.weight = 50;
            s.repeated_chars.weight = 50;
            s.scored_terms = vec![
                ScoredTerm {
                    term: "free".into(),
                    weight: 30,
                },
                ScoredTerm {
                    term: "gift".into(),
                    weight: 30,
                },
            ];
        });
        assert_eq!(verdict(&r, "THIS IS SO LOUD RIGHT NOW"), None);
        assert_eq!(
            verdict(&r, "THIS IS SO LOUD RIGHT NOW!!!!!!!!!!"),
            Some(vec![Reason::Caps, Reason::RepeatedChars])
        );
        assert_eq!(verdict(&r, "a free gift"), None, "60 < 100");
        assert_eq!(
            verdict(&r, "a FREE GIFT CARD YES"),
            Some(vec![Reason::Caps, Reason::ScoredTerms])
        );
    }

    #[test]
    fn off_holds_nothing_and_bounds_are_checked() {
        let off = Settings::default().compile().unwrap();
        assert_eq!(verdict(&off, "THIS IS SO LOUD RIGHT NOW"), None);
        let bad = |edit: fn(&mut Settings)| {
            let mut s = Settings::default();
            edit(&mut s);
            s.compile().is_err()
        };
        assert!(bad(|s| s.hold_score = 0));
        assert!(bad(|s| s.caps.min_percent = 101));
        assert!(bad(|s| s.repeated_chars.max_run = 1));
        assert!(bad(|s| s.held_terms.terms = vec![" ".into()]));
        assert!(bad(|s| s.held_terms.terms = vec!["x".into(); MAX_TERMS + 1]));
        assert!(bad(|s| s.caps.weight = MAX_WEIGHT + 1));
    }

    #[test]
    fn links_are_recognised() {
        for link in [
            "http://x.y",
            "see www.example",
            "spam.com",
            "go to bit.ly/abc",
            "a.b.jp!",
        ] {
            assert!(has_link(link), "{link}");
        }
        for not in ["e.g. this", "3.14", "ok.", "こんにちは。", "file.txt"] {
            assert!(!has_link(not), "{not}");
        }
    }

    #[test]
    fn reasons_keep_their_spelling() {
        assert_eq!(Reason::YoungAccountLink.as_str(), "young_account_link");
        assert_eq!(Reason::parse("repeated_chars"), Some(Reason::RepeatedChars));
        assert_eq!(Reason::parse("nope"), None);
    }
}
