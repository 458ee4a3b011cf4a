//! Per-tenant stamp lookups for the reaction hot path, cached in memory.
//!
//! Stamps change rarely (an operator adds one with `stamp add`, possibly on
//! another node), so hits are trusted for [`HIT_TTL`] and an unknown id
//! reloads the tenant's list at most once per [`MISS_RELOAD`]. A client
//! spamming unknown ids therefore costs at most one query per interval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use sqlx::PgPool;

use crate::store::stamps::{self, Stamp};
use crate::store::StoreError;
use crate::tenant::Tenant;

/// How long a loaded list is trusted for known ids.
pub const HIT_TTL: Duration = Duration::from_secs(30);
/// Shortest interval between reloads caused by unknown ids.
pub const MISS_RELOAD: Duration = Duration::from_secs(2);

/// A tenant's list and when it was loaded (for the miss interval).
#[derive(Clone)]
struct Entry {
    loaded: Instant,
    stamps: Arc<Vec<Arc<Stamp>>>,
}

/// Tenants whose list is kept at most.
const TENANTS: u64 = 10_000;

/// Active stamps per tenant. Cheap to clone.
#[derive(Clone)]
pub struct StampCatalog {
    pool: PgPool,
    entries: Cache<i32, Entry>,
}

impl StampCatalog {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            entries: Cache::builder()
                .max_capacity(TENANTS)
                .time_to_live(HIT_TTL)
                .build(),
        }
    }

    /// The active stamp `id` of `tenant`, if there is one.
    pub async fn get(&self, tenant: &Tenant, id: i64) -> Result<Option<Arc<Stamp>>, StoreError> {
        let cached = self
            .cached(tenant.id)
            .map(|(age, list)| (age, find(&list, id)));
        match cached {
            // Entries expire after HIT_TTL (the cache's time to live).
            Some((_, Some(stamp))) => return Ok(Some(stamp)),
            Some((age, None)) if age < MISS_RELOAD => return Ok(None),
            _ => {}
        }
        let list = self.reload(tenant).await?;
        Ok(find(&list, id))
    }

    /// All active stamps of `tenant`, in display order.
    pub async fn list(&self, tenant: &Tenant) -> Result<Arc<Vec<Arc<Stamp>>>, StoreError> {
        match self.cached(tenant.id) {
            Some((_, list)) => Ok(list),
            None => self.reload(tenant).await,
        }
    }

    fn cached(&self, tenant_id: i32) -> Option<(Duration, Arc<Vec<Arc<Stamp>>>)> {
        let entry = self.entries.get(&tenant_id)?;
        Some((entry.loaded.elapsed(), entry.stamps))
    }

    async fn reload(&self, tenant: &Tenant) -> Result<Arc<Vec<Arc<Stamp>>>, StoreError> {
        let list: Arc<Vec<Arc<Stamp>>> = Arc::new(
            stamps::list_active(&self.pool, &tenant.schema)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect(),
        );
        let entry = Entry {
            loaded: Instant::now(),
            stamps: list.clone(),
        };
        self.entries.insert(tenant.id, entry);
        Ok(list)
    }
}

fn find(list: &[Arc<Stamp>], id: i64) -> Option<Arc<Stamp>> {
    list.iter().find(|s| i64::from(s.id) == id).cloned()
}
