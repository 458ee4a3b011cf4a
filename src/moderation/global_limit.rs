//! Chat rate limit, reaction limit and slow mode across nodes.
//!
//! Each check asks the node's own limiter first ([`UserRateLimiter`], no
//! I/O): what it refuses never reaches Redis. With Redis configured, what it
//! allows is then checked by one Lua script ([`GcraScript`]) against the
//! budget every node shares, so a user with sockets on N nodes has one budget,
//! not N. A refusal from Redis is remembered locally until it runs out, so a
//! user hammering a refused limit costs no further round trips.
//!
//! When Redis errs or takes longer than `--global-limit-timeout-ms`, the node
//! decides with its local limiter alone (the answer it already has), counts
//! `stampede_global_limit_fallbacks_total`, and skips Redis for
//! [`RETRY_AFTER`] before trying again; `/health` says `"limits":"local"`
//! meanwhile. Without Redis (single node) nothing here touches the network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::gcra_script::{rate_key, slow_mode_key, Answer, GcraScript, Rate};
use super::UserRateLimiter;
pub use crate::chat::SlowVerdict;
use crate::config::ServeConfig;
use crate::tenant::Tenant;

/// How long the node decides alone after Redis failed a check.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Which budget a check draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rule {
    Chat,
    Reaction,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Rule::Chat => "chat",
            Rule::Reaction => "react",
        }
    }
}

/// Slow mode of the room a line is for: the window and the room.
#[derive(Debug, Clone, Copy)]
pub struct SlowMode {
    pub room_id: i32,
    pub window: Duration,
}

/// The node's limiters and, with Redis, the shared budgets behind them.
pub struct GlobalLimits {
    chat: Arc<UserRateLimiter>,
    reactions: Arc<UserRateLimiter>,
    chat_rate: Rate,
    reaction_rate: Rate,
    redis: Option<GcraScript>,
    /// Refusals Redis gave, by rule, tenant and user: refused locally until then.
    denied: Mutex<HashMap<(Rule, i32, i32), Instant>>,
    /// False from a failed check until [`RETRY_AFTER`] later.
    up: AtomicBool,
    /// When to try Redis again, in ms since `epoch`.
    retry_at_ms: AtomicU64,
    epoch: Instant,
}

impl GlobalLimits {
    /// The limits from the flags; `redis`: the Redis of `--redis-url` or
    /// `--redis-cluster-urls`.
    pub fn new(config: &ServeConfig, redis: Option<crate::redis_conn::RedisTarget>) -> Self {
        let count = config.chat_rate_limit.max(1);
        let chat_rate = Rate {
            interval: config.chat_rate_period() / count,
            burst: count,
        };
        let reaction_rate = Rate {
            interval: Duration::from_secs(1) / config.reaction_rate_per_sec.max(1),
            burst: config.reaction_burst,
        };
        Self {
            chat: Arc::new(UserRateLimiter::new(count, config.chat_rate_period())),
            reactions: Arc::new(UserRateLimiter::per_second(
                config.reaction_rate_per_sec,
                config.reaction_burst,
            )),
            chat_rate,
            reaction_rate,
            redis: redis.map(|c| GcraScript::new(c, config.global_limit_timeout())),
            denied: Mutex::default(),
            up: AtomicBool::new(true),
            retry_at_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// The local limiters, for the housekeeping that bounds their memory.
    pub fn local_limiters(&self) -> [Arc<UserRateLimiter>; 2] {
        [self.chat.clone(), self.reactions.clone()]
    }

    /// True when checks go to Redis (configured, and not failing).
    pub fn is_global(&self) -> bool {
        self.redis.is_some() && self.up.load(Ordering::Relaxed)
    }

    /// Takes one chat line (or edit) from the user's budget; `Err` is how
    /// long to wait. `slow` is the room's slow mode for a new line of a
    /// user it applies to.
    pub async fn chat(
        &self,
        tenant: &Tenant,
        user_id: i32,
        slow: Option<SlowMode>,
    ) -> Result<SlowVerdict, Duration> {
        self.check(Rule::Chat, tenant, user_id, slow).await
    }

    /// Takes one reaction from the user's budget; `Err` is how long to wait.
    pub async fn reaction(&self, tenant: &Tenant, user_id: i32) -> Result<(), Duration> {
        self.check(Rule::Reaction, tenant, user_id, None)
            .await
            .map(drop)
    }

    async fn check(
        &self,
        rule: Rule,
        tenant: &Tenant,
        user_id: i32,
        slow: Option<SlowMode>,
    ) -> Result<SlowVerdict, Duration> {
        let (local, rate) = match rule {
            Rule::Chat => (&self.chat, self.chat_rate),
            Rule::Reaction => (&self.reactions, self.reaction_rate),
        };
        local.check(tenant.id, user_id)?;
        let Some(redis) = &self.redis else {
            return Ok(SlowVerdict::Unchecked);
        };
        let now = Instant::now();
        if let Some(wait) = self.denied_for(rule, tenant.id, user_id, now) {
            return Err(wait);
        }
        if !self.may_try(now) {
            metrics::counter!("stampede_global_limit_fallbacks_total").increment(1);
            return Ok(SlowVerdict::Unchecked);
        }
        let schema = tenant.schema.as_str();
        let key = rate_key(schema, rule.name(), user_id);
        let slow_key = slow.map(|s| (slow_mode_key(schema, s.room_id, user_id), s.window));
        let slow_arg = slow_key.as_ref().map(|(k, w)| (k.as_str(), *w));
        let answer = redis.check(&key, rate, slow_arg).await;
        metrics::histogram!("stampede_global_limit_seconds").record(now.elapsed().as_secs_f64());
        match answer {
            Ok(Answer::Allowed) => {
                self.mark_up();
                Ok(match slow {
                    Some(_) => SlowVerdict::Cleared,
                    None => SlowVerdict::Unchecked,
                })
            }
            Ok(Answer::SlowMode(wait)) => {
                self.mark_up();
                Ok(SlowVerdict::Wait(wait))
            }
            Ok(Answer::RateLimited(wait)) => {
                self.mark_up();
                self.deny(rule, tenant.id, user_id, now + wait);
                Err(wait)
            }
            Err(err) => {
                self.mark_down(&err, now);
                metrics::counter!("stampede_global_limit_fallbacks_total").increment(1);
                // The local limiter already allowed it: that is the answer.
                Ok(SlowVerdict::Unchecked)
            }
        }
    }

    fn denied_for(&self, rule: Rule, tenant: i32, user: i32, now: Instant) -> Option<Duration> {
        let denied = self.denied.lock().unwrap_or_else(|p| p.into_inner());
        let until = denied.get(&(rule, tenant, user))?;
        until.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    fn deny(&self, rule: Rule, tenant: i32, user: i32, until: Instant) {
        let mut denied = self.denied.lock().unwrap_or_else(|p| p.into_inner());
        denied.insert((rule, tenant, user), until);
    }

    fn may_try(&self, now: Instant) -> bool {
        let since = now.saturating_duration_since(self.epoch).as_millis() as u64;
        since >= self.retry_at_ms.load(Ordering::Relaxed)
    }

    fn mark_up(&self) {
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!("redis answers again: rate limits and slow mode are global");
        }
    }

    fn mark_down(&self, err: &dyn std::fmt::Display, now: Instant) {
        let retry = (now + RETRY_AFTER).saturating_duration_since(self.epoch);
        self.retry_at_ms
            .store(retry.as_millis() as u64, Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %err, "global limits unavailable: each node limits on its own");
        }
    }

    /// Forgets refusals that have run out, bounding memory.
    pub fn shrink(&self) {
        let now = Instant::now();
        let mut denied = self.denied.lock().unwrap_or_else(|p| p.into_inner());
        denied.retain(|_, until| *until > now);
        denied.shrink_to_fit();
    }
}
