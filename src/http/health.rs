//! `GET /health`: liveness plus a database round trip, for load balancers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use crate::channel_layer::LayerStatus;
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `degraded` when Redis is unreachable (still 200) or the database is (503).
    #[schema(pattern = "^(ok|degraded)$")]
    status: &'static str,
    #[schema(pattern = "^(ok|unavailable)$")]
    database: &'static str,
    channel_layer: LayerStatus,
    /// `global` when rate limits and slow mode are enforced across nodes
    /// (Redis answers); `local` on a single node, or while Redis is
    /// unreachable and each node limits on its own.
    #[schema(pattern = "^(global|local)$")]
    limits: &'static str,
    /// Active rooms on this node.
    rooms: usize,
    version: &'static str,
}

/// 200 `{"status":"ok","database":"ok","channel_layer":"local"|"connected",
/// "limits":"local"|"global",…}`;
/// `"status":"degraded"` when Redis is unreachable (still 200) or the
/// database is (503).
#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    summary = "Liveness and a database round trip",
    responses(
        (status = 200, description = "Serving (maybe degraded: Redis unreachable).", body = Health),
        (status = 503, description = "The database is unreachable.", body = Health),
    )
)]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    let layer = state.layer.status();
    // Without the database nothing works; without Redis this node still
    // serves its own viewers, so it stays in the balancer but says degraded.
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let healthy = db_ok && layer != LayerStatus::Degraded;
    // The layer notices an outage within a second even when nobody chats;
    // the limiter notices on its first failed check.
    let global = state.limits.is_global() && layer == LayerStatus::Connected;
    let body = Health {
        status: if healthy { "ok" } else { "degraded" },
        database: if db_ok { "ok" } else { "unavailable" },
        channel_layer: layer,
        limits: if global { "global" } else { "local" },
        rooms: state.rooms.len(),
        version: env!("CARGO_PKG_VERSION"),
    };
    (status, Json(body))
}
