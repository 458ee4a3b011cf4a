//! Shared, cheap-to-clone application state. Holds no per-request data.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::channel_layer::{ChannelLayer, MemoryLayer};
use crate::config::ServeConfig;
use crate::moderation::UserRateLimiter;
use crate::room::RoomRegistry;
use crate::shutdown::Shutdown;
use crate::tenant::TenantResolver;
use crate::ServeError;

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub pool: PgPool,
    pub tenants: TenantResolver,
    pub rooms: RoomRegistry,
    pub layer: Arc<dyn ChannelLayer>,
    pub chat_limiter: Arc<UserRateLimiter>,
    pub shutdown: Shutdown,
}

impl AppState {
    /// Builds the state and starts its housekeeping tasks.
    pub async fn new(
        config: ServeConfig,
        pool: PgPool,
        shutdown: Shutdown,
    ) -> Result<Self, ServeError> {
        let config = Arc::new(config);
        let layer: Arc<dyn ChannelLayer> = Arc::new(MemoryLayer::new());
        let chat_limiter = Arc::new(UserRateLimiter::new(
            config.chat_rate_limit,
            config.chat_rate_period(),
        ));
        spawn_limiter_cleanup(chat_limiter.clone(), shutdown.clone());
        Ok(Self {
            tenants: TenantResolver::new(pool.clone()),
            rooms: RoomRegistry::new(
                pool.clone(),
                layer.clone(),
                config.clone(),
                shutdown.clone(),
            ),
            layer,
            chat_limiter,
            config,
            pool,
            shutdown,
        })
    }
}

fn spawn_limiter_cleanup(limiter: Arc<UserRateLimiter>, shutdown: Shutdown) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => limiter.shrink(),
                _ = shutdown.begun() => break,
            }
        }
    });
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> PgPool {
        state.pool.clone()
    }
}
