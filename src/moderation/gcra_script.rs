//! The Redis side of the global limits: one Lua script per check that runs a
//! GCRA (generic cell rate algorithm) on a per-user key and, for chat lines
//! in slow mode, claims the per-room-and-user slow-mode key, atomically.
//!
//! The script reads the clock of Redis (`TIME`), not of the node, so nodes
//! with skewed clocks still share one budget. Keys carry the tenant schema
//! and user as hash tag (`{acme:u7}`), so a check's keys share a cluster
//! slot while users spread over the shards; each expires when
//! its budget is full again (or the slow-mode window ends), so idle users
//! cost nothing.

use std::time::Duration;

use redis::Script;
use tokio::sync::OnceCell;

use crate::redis_conn::{RedisConn, RedisTarget, Timeouts};

/// KEYS[1]: the GCRA key, holding the theoretical arrival time (µs, Redis
/// clock). KEYS[2], optional: the slow-mode key.
/// ARGV[1]: emission interval (µs); ARGV[2]: burst; ARGV[3]: slow-mode window (ms).
/// Returns `{0, 0}` allowed, `{1, wait_ms}` rate limited, `{2, wait_ms}`
/// slow mode. A line refused for slow mode costs no budget.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local early = tat - now - tolerance
if early > 0 then
  return {1, math.ceil(early / 1000)}
end
if #KEYS > 1 then
  if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then
    return {2, math.max(redis.call('PTTL', KEYS[2]), 1)}
  end
end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000))
return {0, 0}
"#;

/// What Redis answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Allowed,
    RateLimited(Duration),
    SlowMode(Duration),
}

/// A rule's shape: one event per `interval`, bursts of `burst`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub interval: Duration,
    pub burst: u32,
}

/// Why Redis gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("unexpected script reply {0}")]
    Reply(i64),
}

/// The connection and the script, loaded into Redis on first use
/// (`EVALSHA`, with a `SCRIPT LOAD` only when Redis does not know it).
pub struct GcraScript {
    target: RedisTarget,
    conn: OnceCell<RedisConn>,
    script: Script,
    timeout: Duration,
}

impl GcraScript {
    pub fn new(target: RedisTarget, timeout: Duration) -> Self {
        Self {
            target,
            conn: OnceCell::new(),
            script: Script::new(GCRA),
            timeout,
        }
    }

    /// Runs one check; `slow` is the slow-mode key and window, if any.
    /// Gives up after the timeout (connecting included).
    pub async fn check(
        &self,
        key: &str,
        rate: Rate,
        slow: Option<(&str, Duration)>,
    ) -> Result<Answer, ScriptError> {
        let call = async {
            let conn = self
                .conn
                .get_or_try_init(|| {
                    self.target.connect(Timeouts {
                        connect: self.timeout,
                        response: self.timeout,
                        retries: 0,
                    })
                })
                .await?;
            let mut invocation = self.script.key(key);
            let interval_us = rate.interval.as_micros().max(1) as u64;
            invocation.arg(interval_us).arg(rate.burst.max(1));
            match slow {
                Some((slow_key, window)) => {
                    let ms = window.as_millis().max(1) as u64;
                    invocation.key(slow_key).arg(ms)
                }
                None => invocation.arg(0),
            };
            let reply: (i64, i64) = invocation.invoke_async(&mut conn.clone()).await?;
            Ok::<_, ScriptError>(reply)
        };
        let (code, wait) = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| ScriptError::Timeout(self.timeout))??;
        let wait = Duration::from_millis(wait.max(1) as u64);
        match code {
            0 => Ok(Answer::Allowed),
            1 => Ok(Answer::RateLimited(wait)),
            2 => Ok(Answer::SlowMode(wait)),
            other => Err(ScriptError::Reply(other)),
        }
    }
}

/// The GCRA key of `rule` (`chat`, `react`) for a user of tenant `schema`.
pub fn rate_key(schema: &str, rule: &str, user_id: i32) -> String {
    format!("stampede:{{{schema}:u{user_id}}}:rl:{rule}")
}

/// The slow-mode key of a user in a room.
pub fn slow_mode_key(schema: &str, room_id: i32, user_id: i32) -> String {
    format!("stampede:{{{schema}:u{user_id}}}:slow:{room_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_keys_share_one_hash_tag() {
        assert_eq!(rate_key("acme", "chat", 7), "stampede:{acme:u7}:rl:chat");
        assert_eq!(slow_mode_key("acme", 3, 7), "stampede:{acme:u7}:slow:3");
    }
}
