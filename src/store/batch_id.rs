//! Batch ids: a writer gives each batch a UUIDv7 and keeps it across its
//! retries; the statement records it, so a retry after an ambiguous commit
//! (the connection dropped after COMMIT, before the reply) finds it and
//! stores nothing twice. v7 ids sort by time, so old ones are pruned by
//! comparing ids.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

/// How long a stored batch id is kept for retries to find (a retry comes
/// within seconds).
pub const KEPT: Duration = Duration::from_secs(3600);

/// A fresh batch id.
pub fn new() -> Uuid {
    Uuid::now_v7()
}

/// The smallest UUIDv7 of [`KEPT`] ago: ids below it are older.
pub fn oldest_kept() -> Uuid {
    let then = SystemTime::now().checked_sub(KEPT).unwrap_or(UNIX_EPOCH);
    at(then)
        .as_u128()
        .checked_shr(80)
        .map_or(Uuid::nil(), |ms| Uuid::from_u128(ms << 80))
}

fn at(time: SystemTime) -> Uuid {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, since.as_secs(), since.subsec_nanos());
    Uuid::new_v7(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_before_the_window_sort_below_the_boundary() {
        let boundary = oldest_kept();
        assert!(new() > boundary);
        let ago = |secs: u64| at(SystemTime::now() - Duration::from_secs(secs));
        assert!(ago(KEPT.as_secs() + 5) < boundary);
        assert!(ago(KEPT.as_secs() - 5) > boundary);
    }
}
