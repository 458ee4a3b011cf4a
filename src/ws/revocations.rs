//! Closing the sockets of revoked sessions, on every node.
//!
//! Every node `LISTEN`s on the channel [`crate::auth::revocation`] notifies
//! and closes the matching sockets it holds with `session_revoked` and 4401.
//! A notification sent while a node's listening connection is down would be
//! lost, so after every reconnect the node checks that the session of each
//! socket it holds still exists.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;

use axum::extract::ws::Utf8Bytes;
use futures_util::future::BoxFuture;
use sqlx::PgPool;

use crate::auth::revocation::{Revoked, CHANNEL};
use crate::pg_notify::Listener;
use crate::room::outbox::Outbox;
use crate::room::Close;
use crate::wire::{error_json, ErrorCode};

/// Close code for a socket whose session was revoked: log in again.
pub const CLOSE_REVOKED: u16 = 4401;

struct Held {
    id: u64,
    session_id: String,
    outbox: Weak<Outbox>,
}

#[derive(Default)]
struct Sockets {
    next_id: u64,
    by_user: HashMap<(i32, i32), Vec<Held>>,
    /// Revocations received lately, for sockets whose handshake checked
    /// the session before one arrived but registered only after it.
    recent: VecDeque<(Instant, Revoked)>,
}

/// How long a received revocation is kept for late registrations (a
/// handshake takes milliseconds), and how many at most.
const RECENT_WINDOW: Duration = Duration::from_secs(60);
const RECENT_MAX: usize = 4096;

fn covers(revoked: &Revoked, key: &(i32, i32), session_id: &str) -> bool {
    match revoked {
        Revoked::User { tenant_id, user_id } => *key == (*tenant_id, *user_id),
        Revoked::Session { session_id: id } => id == session_id,
    }
}

/// The sockets this node holds, by user; cheap to clone.
#[derive(Clone, Default)]
pub struct Revocations {
    sockets: Arc<Mutex<Sockets>>,
}

/// Keeps a socket known until dropped.
pub struct Tracked {
    sockets: Arc<Mutex<Sockets>>,
    key: (i32, i32),
    id: u64,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = sockets.by_user.get_mut(&self.key) {
            list.retain(|h| h.id != self.id);
            if list.is_empty() {
                sockets.by_user.remove(&self.key);
            }
        }
    }
}

impl Revocations {
    /// Registers an open socket of `user_id` on session `session_id`, whose
    /// handshake checked the session at `checked_at`. A revocation received
    /// since then closes it at once: it may have been committed after the
    /// check and announced before this registration.
    pub fn track(
        &self,
        tenant_id: i32,
        user_id: i32,
        session_id: String,
        outbox: &Arc<Outbox>,
        checked_at: Instant,
    ) -> Tracked {
        let mut sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant_id, user_id);
        let missed = sockets
            .recent
            .iter()
            .any(|(at, revoked)| *at >= checked_at && covers(revoked, &key, &session_id));
        if missed {
            outbox.close(revoked_close());
        }
        sockets.next_id += 1;
        let id = sockets.next_id;
        sockets
            .by_user
            .entry((tenant_id, user_id))
            .or_default()
            .push(Held {
                id,
                session_id,
                outbox: Arc::downgrade(outbox),
            });
        Tracked {
            sockets: self.sockets.clone(),
            key: (tenant_id, user_id),
            id,
        }
    }

    /// Closes the sockets `revoked` covers; returns how many. Remembered
    /// for a while for sockets still registering.
    pub fn apply(&self, revoked: &Revoked) -> usize {
        {
            let mut sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let recent = &mut sockets.recent;
            while recent
                .front()
                .is_some_and(|(at, _)| now - *at > RECENT_WINDOW)
                || recent.len() >= RECENT_MAX
            {
                recent.pop_front();
            }
            recent.push_back((now, revoked.clone()));
        }
        self.close_where(|key, held| covers(revoked, key, &held.session_id))
    }

    fn close_where(&self, matches: impl Fn(&(i32, i32), &Held) -> bool) -> usize {
        let sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        let mut closed = 0;
        for (key, list) in &sockets.by_user {
            for held in list.iter().filter(|h| matches(key, h)) {
                if let Some(outbox) = held.outbox.upgrade() {
                    outbox.close(revoked_close());
                    closed += 1;
                }
            }
        }
        closed
    }

    fn session_ids(&self) -> Vec<String> {
        let sockets = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        let mut ids: Vec<String> = sockets
            .by_user
            .values()
            .flatten()
            .map(|h| h.session_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Closes sockets whose session no longer exists.
    async fn sweep(&self, pool: &PgPool) {
        let ids = self.session_ids();
        if ids.is_empty() {
            return;
        }
        let alive: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
            r#"SELECT id FROM "tower_sessions"."session" WHERE id = ANY($1) AND expiry_date > now()"#,
        )
        .bind(&ids)
        .fetch_all(pool)
        .await;
        match alive {
            Ok(alive) => {
                let closed = self.close_where(|_, held| !alive.contains(&held.session_id));
                if closed > 0 {
                    tracing::info!(sockets = closed, "revoked while not listening");
                }
            }
            Err(err) => tracing::warn!(error = %err, "revocation sweep failed"),
        }
    }
}

impl Listener for Revocations {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn notified<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match serde_json::from_str::<Revoked>(payload) {
                Ok(revoked) => {
                    let closed = self.apply(&revoked);
                    tracing::info!(sockets = closed, "revocation applied");
                }
                Err(err) => tracing::warn!(error = %err, "malformed revocation"),
            }
        })
    }

    fn caught_up<'a>(&'a self, pool: &'a PgPool) -> BoxFuture<'a, ()> {
        Box::pin(self.sweep(pool))
    }
}

fn revoked_close() -> Close {
    Close {
        code: CLOSE_REVOKED,
        reason: "session revoked",
        frame: Some(Utf8Bytes::from(error_json(
            ErrorCode::SessionRevoked,
            "your session has ended: log in again",
            None,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_close_exactly_the_matching_sockets() {
        let revocations = Revocations::default();
        let a1 = Arc::new(Outbox::new(8));
        let a2 = Arc::new(Outbox::new(8));
        let b = Arc::new(Outbox::new(8));
        let now = Instant::now();
        let _t1 = revocations.track(1, 10, "s-a1".into(), &a1, now);
        let _t2 = revocations.track(1, 10, "s-a2".into(), &a2, now);
        let _t3 = revocations.track(1, 11, "s-b".into(), &b, now);
        assert_eq!(
            revocations.apply(&Revoked::Session {
                session_id: "s-a1".into()
            }),
            1
        );
        assert_eq!(
            revocations.apply(&Revoked::User {
                tenant_id: 2,
                user_id: 10
            }),
            0,
            "same user id in another tenant"
        );
        assert_eq!(
            revocations.apply(&Revoked::User {
                tenant_id: 1,
                user_id: 10
            }),
            2
        );
        drop(_t3);
        assert!(revocations.session_ids().iter().all(|s| s != "s-b"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_socket_registering_after_its_revocation_arrived_is_closed_at_once() {
        let revocations = Revocations::default();
        let checked_before = Instant::now();
        tokio::time::advance(Duration::from_millis(5)).await;
        revocations.apply(&Revoked::Session {
            session_id: "s-late".into(),
        });
        tokio::time::advance(Duration::from_millis(5)).await;
        let late = Arc::new(Outbox::new(8));
        let _t = revocations.track(1, 10, "s-late".into(), &late, checked_before);
        assert!(
            !late.send(Utf8Bytes::from_static("x")),
            "closed on registration"
        );
        // A session checked after the revocation (a fresh login) stays open,
        // and so does another session of the same user.
        let fresh = Arc::new(Outbox::new(8));
        let _t = revocations.track(1, 10, "s-late".into(), &fresh, Instant::now());
        assert!(fresh.send(Utf8Bytes::from_static("x")));
        let other = Arc::new(Outbox::new(8));
        let _t = revocations.track(1, 10, "s-other".into(), &other, checked_before);
        assert!(other.send(Utf8Bytes::from_static("x")));
        // A user revocation covers every session of the user in its tenant.
        revocations.apply(&Revoked::User {
            tenant_id: 1,
            user_id: 12,
        });
        let user = Arc::new(Outbox::new(8));
        let _t = revocations.track(1, 12, "s-u".into(), &user, checked_before);
        assert!(!user.send(Utf8Bytes::from_static("x")));
        // Remembered for a minute only.
        tokio::time::advance(RECENT_WINDOW + Duration::from_secs(1)).await;
        revocations.apply(&Revoked::Session {
            session_id: "s-other-2".into(),
        });
        let old = Arc::new(Outbox::new(8));
        let _t = revocations.track(1, 12, "s-u2".into(), &old, checked_before);
        assert!(
            old.send(Utf8Bytes::from_static("x")),
            "the old revocation was forgotten"
        );
    }

    #[test]
    fn payloads_round_trip() {
        for r in [
            Revoked::User {
                tenant_id: 1,
                user_id: 2,
            },
            Revoked::Session {
                session_id: "abc".into(),
            },
        ] {
            let text = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Revoked>(&text).unwrap(), r);
        }
    }
}
