//! `GET /health`: liveness plus a database round trip, for load balancers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::channel_layer::LayerStatus;
use crate::state::AppState;

/// 200 `{"status":"ok","database":"ok","channel_layer":"local"|"connected",…}`;
/// `"status":"degraded"` when Redis is unreachable (still 200) or the
/// database is (503).
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
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "database": if db_ok { "ok" } else { "unavailable" },
        "channel_layer": layer,
        "rooms": state.rooms.len(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    (status, Json(body))
}
