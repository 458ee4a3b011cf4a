//! `/api/analytics/*`: reaction and chat statistics for the tenant's analysts
//! and admins. JSON by default; CSV with `Accept: text/csv` or `?format=csv`.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::{Duration, PrimitiveDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analytics::{check_range, now, parse_time, BucketSize, Csv};
use crate::auth::{CurrentUser, Role, SessionUser};
use crate::error::AppError;
use crate::http::extract::AppPath;
use crate::http::openapi::{Forbidden, Invalid, NotFound, Unauthorized};
use crate::state::AppState;
use crate::store::analytics::{Bucket, StampCount, StreamTotal, Summary};
use crate::store::streams::{self, Stream};
use crate::store::{analytics, format_timestamp};
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(series))
        .routes(routes!(summary))
        .routes(routes!(tenant_reactions))
}

/// Whether `role` may read the tenant's analytics; pages show their link by it.
pub fn sees_analytics(role: Role) -> bool {
    matches!(role, Role::Analyst | Role::Admin)
}

/// Analysts and admins of this tenant only.
pub fn require_analyst(user: &SessionUser) -> Result<(), AppError> {
    if sees_analytics(user.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "analytics are for analysts and admins".into(),
        ))
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    /// Range start (RFC 3339); defaults per route.
    from: Option<String>,
    /// Range end (RFC 3339).
    to: Option<String>,
    /// The series' bucket: `10s`, `1m` (default), `5m`, `1h`…
    bucket: Option<String>,
    /// `csv` for CSV instead of JSON.
    format: Option<String>,
}

fn wants_csv(params: &Params, headers: &HeaderMap) -> bool {
    params.format.as_deref() == Some("csv")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"))
}

fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `from`/`to` from the query, defaulting to `default`.
fn range(
    params: &Params,
    default: (PrimitiveDateTime, PrimitiveDateTime),
) -> Result<(PrimitiveDateTime, PrimitiveDateTime), AppError> {
    let from = match &params.from {
        Some(f) => parse_time("from", f).map_err(AppError::Unprocessable)?,
        None => default.0,
    };
    let to = match &params.to {
        Some(t) => parse_time("to", t).map_err(AppError::Unprocessable)?,
        None => default.1,
    };
    Ok((from, to))
}

/// The default range of a stream's series: its whole run, a minute either side.
fn stream_range(stream: &Stream) -> (PrimitiveDateTime, PrimitiveDateTime) {
    let parse = |t: &Option<String>| t.as_deref().and_then(|t| parse_time("t", t).ok());
    let end = parse(&stream.ended_at).unwrap_or_else(now) + Duration::minutes(1);
    let start = parse(&stream.started_at).unwrap_or(end - Duration::hours(1));
    (start - Duration::minutes(1), end)
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReactionSeries {
    stream_id: i32,
    bucket: String,
    from: String,
    to: String,
    series: Vec<Bucket>,
}

#[utoipa::path(
    get,
    path = "/analytics/streams/{id}/reactions",
    tag = "analytics",
    operation_id = "reaction_series",
    summary = "A stream's reactions per bucket, by stamp",
    params(("id" = i32, Path, description = "The stream's id."), Params),
    responses(
        (status = 200, description = "JSON by default; CSV with `Accept: text/csv` or `?format=csv`.", content(
            (ReactionSeries = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn series(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
    headers: HeaderMap,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_analyst(&user)?;
    let Query(params) = params?;
    let bucket = BucketSize::parse(params.bucket.as_deref().unwrap_or("1m"))
        .map_err(AppError::Unprocessable)?;
    let stream = streams::get(&state.pool, &tenant.schema, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stream {id}")))?;
    let (from, to) = range(&params, stream_range(&stream))?;
    check_range(from, to, bucket.max_range()).map_err(AppError::Unprocessable)?;
    let series =
        analytics::reaction_series(&state.pool, &tenant.schema, id, from, to, bucket.interval())
            .await?;
    if wants_csv(&params, &headers) {
        let mut csv = Csv::new(&["bucket_start", "stamp_id", "stamp_name", "count"]);
        for b in &series {
            for c in &b.counts {
                csv.row([
                    b.start.clone(),
                    c.stamp_id.to_string(),
                    c.name.clone(),
                    c.count.to_string(),
                ]);
            }
        }
        return Ok(csv_response(
            &format!("stream-{id}-reactions.csv"),
            csv.finish(),
        ));
    }
    Ok(Json(ReactionSeries {
        stream_id: id,
        bucket: params.bucket.unwrap_or_else(|| "1m".to_owned()),
        from: format_timestamp(from),
        to: format_timestamp(to),
        series,
    })
    .into_response())
}

#[utoipa::path(
    get,
    path = "/analytics/streams/{id}/summary",
    tag = "analytics",
    operation_id = "stream_summary",
    summary = "A stream's figures: reactions, chat, peaks, top stamps",
    params(("id" = i32, Path, description = "The stream's id."), Params),
    responses(
        (status = 200, description = "JSON by default; CSV with `Accept: text/csv` or `?format=csv`.", content(
            (Summary = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
    security(("session" = []))
)]
async fn summary(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    AppPath(id): AppPath<i32>,
    headers: HeaderMap,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_analyst(&user)?;
    let Query(params) = params?;
    let summary = analytics::summary(&state.pool, &tenant.schema, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stream {id}")))?;
    if wants_csv(&params, &headers) {
        let mut csv = Csv::new(&["metric", "stamp_id", "stamp_name", "value"]);
        let figures = [
            ("duration_secs", summary.duration_secs),
            ("total_reactions", summary.total_reactions),
            ("unique_reactors", summary.unique_reactors),
            ("total_chat_messages", summary.total_chat_messages),
            ("unique_chatters", summary.unique_chatters),
            ("peak_messages_per_minute", summary.peak_messages_per_minute),
            (
                "peak_reactions_per_minute",
                summary.peak_reactions_per_minute,
            ),
            ("peak_concurrent_viewers", summary.peak_concurrent_viewers),
        ];
        for (metric, value) in figures {
            csv.row([
                metric.to_owned(),
                String::new(),
                String::new(),
                value.to_string(),
            ]);
        }
        for s in &summary.top_stamps {
            csv.row([
                "reactions_by_stamp".to_owned(),
                s.stamp_id.to_string(),
                s.name.clone(),
                s.count.to_string(),
            ]);
        }
        return Ok(csv_response(
            &format!("stream-{id}-summary.csv"),
            csv.finish(),
        ));
    }
    Ok(Json(summary).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct TenantReactions {
    from: String,
    to: String,
    total: i64,
    stamps: Vec<StampCount>,
    streams: Vec<StreamTotal>,
}

#[utoipa::path(
    get,
    path = "/analytics/reactions",
    tag = "analytics",
    operation_id = "tenant_reactions",
    summary = "The tenant's reactions by stamp and by stream (default: 30 days)",
    params(Params),
    responses(
        (status = 200, description = "JSON by default; CSV with `Accept: text/csv` or `?format=csv`.", content(
            (TenantReactions = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    ),
    security(("session" = []))
)]
async fn tenant_reactions(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_analyst(&user)?;
    let Query(params) = params?;
    let end = now() + Duration::minutes(1);
    let (from, to) = range(&params, (end - Duration::days(30), end))?;
    check_range(from, to, BucketSize::Hour.max_range()).map_err(AppError::Unprocessable)?;
    let stamps =
        analytics::stamp_totals(&state.pool, &tenant.schema, None, Some((from, to))).await?;
    let per_stream = analytics::stream_totals(&state.pool, &tenant.schema, from, to).await?;
    if wants_csv(&params, &headers) {
        let mut csv = Csv::new(&[
            "scope",
            "stream_id",
            "stream_title",
            "stamp_id",
            "stamp_name",
            "count",
        ]);
        for s in &stamps {
            csv.row([
                "tenant".into(),
                String::new(),
                String::new(),
                s.stamp_id.to_string(),
                s.name.clone(),
                s.count.to_string(),
            ]);
        }
        for st in &per_stream {
            for s in &st.stamps {
                csv.row([
                    "stream".into(),
                    st.stream_id.to_string(),
                    st.title.clone(),
                    s.stamp_id.to_string(),
                    s.name.clone(),
                    s.count.to_string(),
                ]);
            }
        }
        return Ok(csv_response("reactions.csv", csv.finish()));
    }
    Ok(Json(TenantReactions {
        from: format_timestamp(from),
        to: format_timestamp(to),
        total: stamps.iter().map(|s| s.count).sum::<i64>(),
        stamps,
        streams: per_stream,
    })
    .into_response())
}
