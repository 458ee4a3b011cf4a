//! The sockets in a room on this node, and the audience they make up.

use std::collections::HashMap;

use tokio::time::Instant;

use super::audience::{Audience, SharedRoster};
use super::{Attach, Close, ConnId};

#[derive(Default)]
pub(crate) struct Members {
    subs: HashMap<ConnId, Attach>,
    audience: Audience,
    next_conn: u64,
}

impl Members {
    /// Members whose distinct users are mirrored into `roster`.
    pub fn new(roster: SharedRoster) -> Self {
        Members {
            audience: Audience::new(roster),
            ..Members::default()
        }
    }

    /// An id for a socket about to join.
    pub fn next_id(&mut self) -> ConnId {
        self.next_conn += 1;
        ConnId(self.next_conn)
    }

    /// Adds a socket; true if it is its user's first (announce a join).
    pub fn insert(&mut self, conn: ConnId, attach: Attach) -> bool {
        let user_id = attach.member.user_id;
        self.subs.insert(conn, attach);
        self.audience.arrive(user_id)
    }

    /// Removes a socket; with it, whether it was its user's last (announce
    /// a leave).
    pub fn remove(&mut self, conn: ConnId) -> Option<(Attach, bool)> {
        let attach = self.subs.remove(&conn)?;
        let last = self.audience.depart(attach.member.user_id);
        Some((attach, last))
    }

    pub fn get(&self, conn: ConnId) -> Option<&Attach> {
        self.subs.get(&conn)
    }

    pub fn len(&self) -> usize {
        self.subs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// Every socket, or those of one user.
    pub fn conns(&self, user_id: Option<i32>) -> Vec<ConnId> {
        self.subs
            .iter()
            .filter(|(_, a)| user_id.is_none_or(|id| a.member.user_id == id))
            .map(|(conn, _)| *conn)
            .collect()
    }

    /// Asks every socket to close (they leave as their tasks end).
    pub fn close_all(&self, close: Close) {
        for attach in self.subs.values() {
            attach.outbox.close(close.clone());
        }
    }

    /// After an append that made the ring's tail `tail`: wakes every socket
    /// at most `limit` behind and returns the others (to close as lagging).
    pub fn wake(&self, tail: u64, limit: u64) -> Vec<ConnId> {
        let mut lagging = Vec::new();
        for (conn, attach) in &self.subs {
            if attach.position.behind(tail) > limit {
                lagging.push(*conn);
            } else {
                attach.outbox.wake();
            }
        }
        lagging
    }

    pub fn chatted(&mut self, user_id: i32, at: Instant) {
        self.audience.chatted(user_id, at);
    }

    /// Distinct users present, and those who chatted lately.
    pub fn counts(&mut self, now: Instant) -> (usize, usize) {
        self.audience.counts(now)
    }
}
