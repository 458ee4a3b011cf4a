//! The per-group event log in Redis: logged publishes and replays.

use std::sync::Arc;

use bytes::Bytes;

use super::*;

/// Takes the next offset, logs and publishes, atomically.
/// KEYS: offset, epoch, log. ARGV: payload, fresh epoch, channel, envelope
/// head, log size, publish command (`SPUBLISH` in a cluster: the channel
/// shares the keys' slot).
pub(super) const LOGGED_PUBLISH: &str = r#"
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[2], epoch)
  redis.call('SET', KEYS[1], 0)
  redis.call('DEL', KEYS[3])
end
local off = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], off .. '-0', 'p', ARGV[1])
redis.call(ARGV[6], ARGV[3], ARGV[4] .. 'S' .. off .. '|' .. epoch .. '|' .. ARGV[1])
return {off, epoch}
"#;

pub(super) async fn epoch(shared: &Driver, group: &str) -> redis::RedisResult<Option<String>> {
    let mut conn = query_conn(shared).await?;
    redis::cmd("GET")
        .arg(format!("{group}:epoch"))
        .query_async(&mut conn)
        .await
}

pub(super) async fn replay(
    shared: &Driver,
    group: &str,
    epoch: &str,
    since: u64,
) -> redis::RedisResult<Replay> {
    let mut conn = query_conn(shared).await?;
    let start = if since == 0 {
        "-".to_owned()
    } else {
        format!("({since}-0")
    };
    let (current, last, range): (
        Option<String>,
        Option<u64>,
        redis::streams::StreamRangeReply,
    ) = redis::pipe()
        .get(format!("{group}:epoch"))
        .get(format!("{group}:offset"))
        .cmd("XRANGE")
        .arg(format!("{group}:log"))
        .arg(start)
        .arg("+")
        .query_async(&mut conn)
        .await?;
    let last = last.unwrap_or(0);
    if current.as_deref() != Some(epoch) || since > last {
        return Ok(Replay::Gap);
    }
    let epoch: Arc<str> = Arc::from(epoch);
    let mut events = Vec::with_capacity(range.ids.len());
    for entry in range.ids {
        let offset: u64 = entry
            .id
            .split('-')
            .next()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let payload: Vec<u8> = entry.get("p").unwrap_or_default();
        events.push(Delivery {
            seq: Some(Seq {
                offset,
                epoch: epoch.clone(),
            }),
            payload: Bytes::from(payload),
        });
    }
    // Covered only if nothing between `since` and the first kept entry was trimmed.
    let first = events
        .first()
        .and_then(|d| d.seq.as_ref())
        .map(|s| s.offset);
    let covered = match first {
        Some(first) => first == since + 1,
        None => since == last,
    };
    Ok(if covered {
        Replay::Events(events)
    } else {
        Replay::Gap
    })
}
