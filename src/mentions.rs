//! Which `@names` of a chat line are users of its tenant. A line's unknown
//! names are looked up in one query, and every answer (a user or none) is
//! remembered for [`TTL`]: a busy room naming the same people costs few
//! queries, and an account created a moment ago becomes mentionable within
//! a minute. Bounded: [`MAX_CACHED`] names over all tenants.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use sqlx::PgPool;

use crate::chat::mentions::{candidates, MAX_MENTIONS};
use crate::chat::Mention;
use crate::store::{users, StoreError};
use crate::tenant::Tenant;

/// How long an answer is trusted.
pub const TTL: Duration = Duration::from_secs(60);
/// Names remembered at most.
const MAX_CACHED: u64 = 100_000;

/// A user as remembered: id and the account's spelling.
type Known = Option<(i32, Arc<str>)>;

/// The tenants' users by lowercase name. Cheap to clone.
#[derive(Clone)]
pub struct Directory {
    pool: PgPool,
    names: Cache<(i32, String), Known>,
}

impl Directory {
    pub fn new(pool: PgPool) -> Self {
        Directory {
            pool,
            names: Cache::builder()
                .max_capacity(MAX_CACHED)
                .time_to_live(TTL)
                .build(),
        }
    }

    /// The users `text` (as typed) mentions, in order, at most
    /// [`MAX_MENTIONS`].
    pub async fn resolve(&self, tenant: &Tenant, text: &str) -> Result<Vec<Mention>, StoreError> {
        let names = candidates(text);
        if names.is_empty() {
            return Ok(Vec::new());
        }
        // Every name's answer: from the cache, else from one query.
        let mut answers: Vec<(String, Option<Known>)> = names
            .into_iter()
            .map(|n| {
                let cached = self.names.get(&(tenant.id, n.clone()));
                (n, cached)
            })
            .collect();
        let unknown: Vec<String> = answers
            .iter()
            .filter(|(_, a)| a.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        if !unknown.is_empty() {
            let rows = users::active_by_names(&self.pool, &tenant.schema, &unknown).await?;
            for (name, answer) in answers.iter_mut().filter(|(_, a)| a.is_none()) {
                let user = rows
                    .iter()
                    .find(|(_, u)| u.eq_ignore_ascii_case(name))
                    .map(|(id, u)| (*id, Arc::from(u.as_str())));
                self.names.insert((tenant.id, name.clone()), user.clone());
                *answer = Some(user);
            }
        }
        let mut out: Vec<Mention> = Vec::new();
        for (user_id, username) in answers.into_iter().filter_map(|(_, a)| a.flatten()) {
            if !out.iter().any(|m| m.user_id == user_id) {
                out.push(Mention {
                    user_id,
                    username: username.to_string(),
                });
            }
            if out.len() == MAX_MENTIONS {
                break;
            }
        }
        Ok(out)
    }
}
