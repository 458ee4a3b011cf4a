//! `/analytics` and `/analytics/streams/{id}`: the analysts' dashboard,
//! charts rendered server-side as SVG (nothing fetched at page load).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use time::Duration;

use crate::analytics::charts::{
    line_chart, stacked_reactions, LegendEntry, StackBucket, StackPart,
};
use crate::analytics::now;
use crate::auth::{MaybeUser, SessionUser};
use crate::error::AppError;
use crate::error::ErrorPage;
use crate::http::api::analytics::require_analyst;
use crate::http::extract::AppPath;
use crate::state::AppState;
use crate::store::analytics::{self, StampCount, StreamTotal, Summary};
use crate::tenant::CurrentTenant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/analytics", get(overview))
        .route("/analytics/streams/{id}", get(stream_page))
}

/// Why the dashboard was not shown.
enum Denied {
    /// Not logged in: go to the login form, then back to this path.
    Login(String),
    /// Logged in without the analyst or admin role.
    Forbidden,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Login(next) => {
                Redirect::to(&format!("/accounts/login?next={next}")).into_response()
            }
            Denied::Forbidden => {
                let page = ErrorPage {
                    status: 403,
                    message: "Analytics are for the tenant's analysts and admins.",
                };
                (StatusCode::FORBIDDEN, askama_web::WebTemplate(page)).into_response()
            }
        }
    }
}

/// The analyst, or why not.
fn analyst(user: Option<SessionUser>, next: &str) -> Result<SessionUser, Denied> {
    let user = user.ok_or_else(|| Denied::Login(next.to_owned()))?;
    require_analyst(&user).map_err(|_| Denied::Forbidden)?;
    Ok(user)
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics.html")]
struct OverviewPage {
    tenant_name: String,
    user: SessionUser,
    total: i64,
    stamps: Vec<StampCount>,
    streams: Vec<StreamTotal>,
}

async fn overview(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
) -> Result<Response, AppError> {
    let user = match analyst(user, "/analytics") {
        Ok(u) => u,
        Err(denied) => return Ok(denied.into_response()),
    };
    let to = now() + Duration::minutes(1);
    let from = to - Duration::days(30);
    let stamps =
        analytics::stamp_totals(&state.pool, &tenant.schema, None, Some((from, to))).await?;
    let streams = analytics::stream_totals(&state.pool, &tenant.schema, from, to).await?;
    Ok(OverviewPage {
        tenant_name: tenant.name.clone(),
        user,
        total: stamps.iter().map(|s| s.count).sum(),
        stamps,
        streams,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics_stream.html")]
struct StreamPage {
    tenant_name: String,
    user: SessionUser,
    summary: Summary,
    reactions_svg: String,
    chat_svg: String,
    viewers_svg: String,
    duration: String,
}

async fn stream_page(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    AppPath(id): AppPath<i32>,
) -> Result<Response, AppError> {
    let user = match analyst(user, &format!("/analytics/streams/{id}")) {
        Ok(u) => u,
        Err(denied) => return Ok(denied.into_response()),
    };
    let Some(summary) = analytics::summary(&state.pool, &tenant.schema, id).await? else {
        return Err(AppError::NotFound(format!("no stream {id}")));
    };
    let (pool, schema) = (&state.pool, &tenant.schema);
    let chat = analytics::chat_per_minute(pool, schema, id).await?;
    let viewers = analytics::viewer_samples(pool, schema, id).await?;
    // The chart covers the minutes that have reactions (at most a day of 1-minute bars).
    let minutes = analytics::reaction_minutes_span(pool, schema, id).await?;
    let series = match minutes {
        Some((first, last)) => {
            let to = last + Duration::minutes(1);
            let from = first.max(to - Duration::days(1));
            let bucket = if to - from > Duration::hours(6) {
                "5 minutes"
            } else {
                "1 minute"
            };
            analytics::reaction_series(pool, schema, id, from, to, bucket).await?
        }
        None => Vec::new(),
    };
    let buckets: Vec<StackBucket> = series
        .iter()
        .map(|b| StackBucket {
            start_unix: b.start_unix,
            parts: b
                .counts
                .iter()
                .map(|c| StackPart {
                    stamp_id: c.stamp_id,
                    count: c.count,
                })
                .collect(),
        })
        .collect();
    let legend: Vec<LegendEntry> = summary
        .top_stamps
        .iter()
        .map(|s| LegendEntry {
            stamp_id: s.stamp_id,
            name: s.name.clone(),
            image_url: s.image_url.clone(),
        })
        .collect();
    let unix = |t: time::PrimitiveDateTime| t.assume_utc().unix_timestamp();
    let chat_points: Vec<(i64, f64)> = chat.iter().map(|(t, n)| (unix(*t), *n as f64)).collect();
    let viewer_points: Vec<(i64, f64)> = viewers
        .iter()
        .map(|(t, n)| (unix(*t), f64::from(*n)))
        .collect();
    let d = summary.duration_secs.max(0);
    Ok(StreamPage {
        tenant_name: tenant.name.clone(),
        user,
        reactions_svg: stacked_reactions(&buckets, &legend, "Reactions per minute by stamp"),
        chat_svg: line_chart(&chat_points, "Chat messages per minute", "#4fc3ff"),
        viewers_svg: line_chart(&viewer_points, "Concurrent viewers", "#3ddc84"),
        duration: format!("{}h {:02}m", d / 3600, (d % 3600) / 60),
        summary,
    }
    .into_response())
}
