//! Services, cheap-to-clone application state. Holds no per-request data.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::csrf::CsrfKey;
use crate::auth::hash_gate::HashGate;
use crate::auth::login_throttle::LoginThrottle;
use crate::channel_layer::{ChannelLayer, MemoryLayer, RedisLayer};
use crate::config::ServeConfig;
use crate::moderation::actions::Moderation;
use crate::moderation::global_limit::GlobalLimits;
use crate::moderation::UserRateLimiter;
use crate::notifications::live::StreamStarts;
use crate::notifications::Notifications;
use crate::presence::Presence;
use crate::room::RoomRegistry;
use crate::shutdown::Shutdown;
use crate::stamps::StampCatalog;
use crate::tenant::TenantResolver;
use crate::ws::admission::Admission;
use crate::ws::revocations::Revocations;
use crate::ws::socket_quota::SocketQuota;
use crate::ServeError;

/// Everything handlers share. One pointer, because extractors and
/// middleware clone it several times per request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] points to.
pub struct Services {
    pub config: Arc<ServeConfig>,
    pub pool: PgPool,
    pub tenants: TenantResolver,
    pub rooms: RoomRegistry,
    pub layer: Arc<dyn ChannelLayer>,
    /// Chat, reaction and slow-mode limits: local, and across nodes with Redis.
    pub limits: Arc<GlobalLimits>,
    /// Message searches per user (`--search-per-minute`).
    pub search_limiter: Arc<UserRateLimiter>,
    pub stamps: StampCatalog,
    /// Resolves `@names` in chat lines.
    pub mentions: crate::mentions::Directory,
    pub moderation: Moderation,
    pub presence: Presence,
    pub admission: Admission,
    pub login_throttle: Arc<LoginThrottle>,
    pub hash_gate: HashGate,
    pub socket_quota: SocketQuota,
    pub revocations: Revocations,
    pub notifications: Notifications,
    pub csrf: CsrfKey,
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
        let redis = config
            .redis_target()
            .map_err(|e| ServeError::Config(e.to_string()))?;
        let layer: Arc<dyn ChannelLayer> = match &redis {
            Some(target) => Arc::new(RedisLayer::start(target.clone())),
            None => Arc::new(MemoryLayer::new()),
        };
        let limits = Arc::new(GlobalLimits::new(&config, redis.clone()));
        let search_limiter = Arc::new(UserRateLimiter::new(
            config.search_per_minute,
            Duration::from_secs(60),
        ));
        let login_throttle = Arc::new(LoginThrottle::new(
            config.login_failures_per_user,
            config.login_failures_per_ip,
            config.login_failure_window(),
        ));
        let notifications = Notifications::start(pool.clone(), layer.clone(), &config, &shutdown);
        let [chat_limiter, reaction_limiter] = limits.local_limiters();
        spawn_limiter_cleanup(
            limits.clone(),
            vec![
                chat_limiter,
                reaction_limiter,
                search_limiter.clone(),
                notifications.read_limiter.clone(),
            ],
            login_throttle.clone(),
            shutdown.clone(),
        );
        let moderation = Moderation::new(
            pool.clone(),
            layer.clone(),
            config.wording.clone(),
            notifications.notifier.clone(),
        );
        crate::moderation::held_expiry::spawn(
            pool.clone(),
            layer.clone(),
            config.held_expiry(),
            shutdown.clone(),
        );
        let rooms = RoomRegistry::new(
            pool.clone(),
            layer.clone(),
            config.clone(),
            shutdown.clone(),
            notifications.notifier.clone(),
        );
        let presence = Presence::new(rooms.clone(), pool.clone(), redis);
        presence.clone().spawn(shutdown.clone());
        let revocations = Revocations::default();
        let stream_ends = crate::room::lifecycle::StreamEnds::new(rooms.clone());
        let stream_starts = StreamStarts::new(notifications.hub.clone(), pool.clone());
        crate::pg_notify::start(
            pool.clone(),
            vec![
                Arc::new(revocations.clone()),
                Arc::new(stream_ends),
                Arc::new(stream_starts),
            ],
            shutdown.clone(),
        );
        Ok(Self(Arc::new(Services {
            admission: Admission::start(pool.clone()),
            moderation,
            presence,
            rooms,
            tenants: TenantResolver::new(pool.clone()),
            layer,
            limits,
            search_limiter,
            stamps: StampCatalog::new(pool.clone()),
            mentions: crate::mentions::Directory::new(pool.clone()),
            login_throttle,
            socket_quota: SocketQuota::default(),
            revocations,
            notifications,
            csrf: CsrfKey::load(&pool).await?,
            hash_gate: HashGate::new(config.max_concurrent_hashes, config.max_queued_hashes),

            config,
            pool,
            shutdown,
        })))
    }
}

fn spawn_limiter_cleanup(
    global: Arc<GlobalLimits>,
    limiters: Vec<Arc<UserRateLimiter>>,
    logins: Arc<LoginThrottle>,
    shutdown: Shutdown,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    limiters.iter().for_each(|l| l.shrink());
                    global.shrink();
                    logins.shrink();
                }
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
