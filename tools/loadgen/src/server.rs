//! What the generator reads of the server under test: CPU time and memory
//! from `/proc`, and the rows a run stored.

use std::time::Duration;

use crate::cli::Common;

/// utime + stime of `pid`, in seconds.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0) // USER_HZ is 100 on Linux
}

/// CPU time of every local process named `postgres`, in seconds (the
/// server's backends do the session and room lookups of each handshake).
pub fn postgres_cpu_secs() -> Option<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let is_postgres = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == "postgres");
        if is_postgres {
            total += cpu_secs(pid).unwrap_or(0.0);
        }
    }
    Some(total)
}

/// Resident memory of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Stored reactions (`kind` "reactions") or load-test chat lines of the
/// run's streams, with `--database-url`.
pub async fn count_rows(common: &Common, kind: &str) -> anyhow::Result<Option<i64>> {
    let Some(url) = &common.database_url else {
        return Ok(None);
    };
    let schema = stampede::tenant::SchemaName::parse(&common.schema)?;
    let pool = stampede::store::connect(url, 1).await?;
    let sql = match kind {
        "reactions" => format!("SELECT count(*) FROM {schema}.streaming_streamreaction WHERE stream_id = ANY($1)"),
        _ => format!(
            "SELECT count(*) FROM {schema}.chat_chatmessage m JOIN {schema}.chat_chatroom r ON r.id = m.room_id
             WHERE r.stream_id = ANY($1) AND m.content LIKE 'lg %'"
        ),
    };
    // Rows trail the load by up to one flush; wait until the count is stable.
    let mut last = -1i64;
    for _ in 0..40 {
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(&common.stream)
            .fetch_one(&pool)
            .await?;
        if n == last {
            return Ok(Some(n));
        }
        last = n;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(Some(last))
}
