//! Prometheus metrics at `GET /metrics`: with a bearer token on the public
//! listener (`--metrics-token`) and/or on a private address (`--metrics-bind`).
//!
//! One recorder per process (several servers in one test binary share it).
//! Labels are small fixed sets (error codes, frame kinds, drop reasons):
//! never a user, room or tenant, so cardinality stays bounded.
//!
//! | Metric | Type | Labels |
//! |---|---|---|
//! | `stampede_connections` | gauge | |
//! | `stampede_rooms` | gauge | |
//! | `stampede_messages_received_total` | counter | |
//! | `stampede_messages_stored_total` | counter | |
//! | `stampede_reactions_received_total` | counter | |
//! | `stampede_chat_commit_retries_total`, `stampede_reaction_flush_retries_total` | counter | — |
//! | `stampede_frames_delivered_total` | counter | `kind` = chat, reaction, presence |
//! | `stampede_frames_dropped_total` | counter | `reason` = lagging, reaction_behind |
//! | `stampede_rejected_total` | counter | `code` = the WebSocket error code |
//! | `stampede_chat_batch_rows` / `stampede_reaction_batch_rows` | histogram | |
//! | `stampede_chat_commit_seconds` / `stampede_reaction_flush_seconds` | histogram | |
//! | `stampede_session_batch_rows` | histogram (sessions per coalesced load) | |
//! | `stampede_broadcast_seconds` | histogram (one room fan-out) | |
//! | `stampede_chat_ack_seconds` | histogram (room accepted a message → committed and published) | |
//! | `stampede_channel_layer_dropped_total` | counter | |
//! | `stampede_notification_sockets` | gauge | |
//! | `stampede_notifications_stored_total`, `stampede_notifications_swept_total` | counter | |
//! | `stampede_notifications_dropped_total` | counter | `reason` = queue_full, closed, store_failed |
//! | `stampede_notification_frames_total` | counter | `kind` = sync, new, read |
//! | `stampede_notification_batch_rows`, `stampede_notification_sync_batch_rows` | histogram | |

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::csrf::constant_time_eq;
use crate::error::AppError;
use crate::state::AppState;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder (once per process) and returns its handle.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                    ],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Suffix("_rows".into()),
                        &[
                            1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0,
                        ],
                    )
                });
            let recorder = match builder {
                Ok(b) => b.build_recorder(),
                Err(err) => {
                    tracing::warn!(error = %err, "metrics disabled");
                    return None;
                }
            };
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => Some(handle),
                Err(err) => {
                    tracing::warn!(error = %err, "metrics recorder already set elsewhere");
                    None
                }
            }
        })
        .as_ref()
}

/// `GET /metrics` on the public listener: 404 unless `--metrics-token` is
/// set, then 401 without `Authorization: Bearer <token>`. Metrics reveal
/// load and internals an attacker could time an attack by.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    summary = "Prometheus metrics (with --metrics-token)",
    params(("Authorization" = String, Header, description = "`Bearer <--metrics-token>`")),
    responses(
        (status = 200, description = "The Prometheus text exposition.", content_type = "text/plain", body = String),
        (status = 401, response = crate::http::openapi::Unauthorized),
        (status = 404, description = "No `--metrics-token` is set: not served publicly.", body = crate::error::ErrorBody),
    )
)]
pub async fn render_public(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.config.metrics_token {
        None => AppError::NotFound("no such page".into()).into_response(),
        Some(token) => render_authorized(token, &headers),
    }
}

fn render_authorized(token: &str, headers: &HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        render().into_response()
    } else {
        (
            [(header::WWW_AUTHENTICATE, "Bearer")],
            AppError::Unauthorized,
        )
            .into_response()
    }
}

fn render() -> impl IntoResponse {
    let body = install().map(|h| h.render()).unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/plain; version=0.0.4"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

/// The router of the private `--metrics-bind` listener: `/metrics` only
/// (with `--metrics-token`, only for that bearer token). It is served by the
/// same accept loop as the public listener, with the same connection limits.
pub fn private_router(token: Option<String>) -> Router {
    Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| async move {
            match &token {
                Some(token) => render_authorized(token, &headers),
                None => render().into_response(),
            }
        }),
    )
}
