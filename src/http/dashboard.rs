//! `/analytics` and `/analytics/streams/{id}`: the analysts' dashboard,
//! charts rendered server-side as SVG (nothing fetched at page load).
//! Browsers read these pages, so refusals and failures are answered with
//! the error page, never with the API's JSON.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use time::{Duration, PrimitiveDateTime};

use crate::analytics::charts::{
    line_chart, stacked_reactions, LegendEntry, StackBucket, StackPart,
};
use crate::analytics::{self as rules, now, unix, Span, Window};
use crate::auth::{MaybeUser, SessionUser};
use crate::error::{with_refusal_headers, AppError, ErrorPage};
use crate::http::api::analytics::sees_analytics;
use crate::state::AppState;
use crate::store::analytics::{self, StampCount, StreamActivity, Summary, Timeline};
use crate::store::{format_timestamp, StoreError};
use crate::tenant::CurrentTenant;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/analytics", get(overview))
        .route("/analytics/streams/{id}", get(stream_page))
}

/// Why the dashboard was not shown.
enum Refusal {
    /// Not logged in: go to the login form, then back to this path.
    Login(String),
    /// The error page with this status and message.
    Page(StatusCode, String),
    /// A failure underneath, told as the API would tell it, but as a page.
    App(AppError),
}

impl From<AppError> for Refusal {
    fn from(err: AppError) -> Self {
        Refusal::App(err)
    }
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Self {
        Refusal::App(err.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Login(next) => {
                Redirect::to(&format!("/accounts/login?next={next}")).into_response()
            }
            Refusal::Page(status, message) => error_page(status, &message),
            Refusal::App(err) => {
                let page = error_page(err.status(), &err.public_message());
                with_refusal_headers(page, &err)
            }
        }
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        message,
    };
    (status, WebTemplate(page)).into_response()
}

fn no_such_stream() -> Refusal {
    Refusal::Page(StatusCode::NOT_FOUND, "This stream does not exist.".into())
}

/// The analyst, or why not.
fn analyst(user: Option<SessionUser>, next: &str) -> Result<SessionUser, Refusal> {
    let user = user.ok_or_else(|| Refusal::Login(next.to_owned()))?;
    if !sees_analytics(user.role) {
        return Err(Refusal::Page(
            StatusCode::FORBIDDEN,
            "Analytics are for the tenant's analysts and admins.".into(),
        ));
    }
    Ok(user)
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics.html")]
struct OverviewPage {
    tenant_name: String,
    user: SessionUser,
    show_analytics_link: bool,
    total: i64,
    stamps: Vec<StampCount>,
    streams: Vec<StreamActivity>,
}

async fn overview(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
) -> Result<Response, Refusal> {
    let user = analyst(user, "/analytics")?;
    let to = now() + Duration::minutes(1);
    let from = to - Duration::days(30);
    let stamps =
        analytics::stamp_totals(&state.pool, &tenant.schema, None, Some((from, to))).await?;
    let streams = analytics::stream_activity(&state.pool, &tenant.schema, from, to).await?;
    Ok(OverviewPage {
        tenant_name: tenant.name.clone(),
        show_analytics_link: sees_analytics(user.role),
        user,
        total: stamps.iter().map(|s| s.count).sum(),
        stamps,
        streams,
    }
    .into_response())
}

/// The chart widths, in `viewBox` units, matched to the boxes style.css
/// gives the charts so their text (12 units and up) renders at 11 px or
/// more: from a 1000 px wide window up, a full-width chart is 930–1070 px
/// wide and a half one 442–512 px; below it every chart is one column,
/// 329 px wide on a 390 px phone that shows a 15 px scrollbar (344 px
/// without) and at most 600 px.
const FULL_WIDTH: f64 = 960.0;
const HALF_WIDTH: f64 = 480.0;
const NARROW_WIDTH: f64 = 340.0;

/// One chart drawn twice, for wide and for narrow windows; the stylesheet
/// shows one of them.
struct Chart {
    desktop: String,
    narrow: String,
}

impl Chart {
    fn draw(desktop_width: f64, draw: impl Fn(f64) -> String) -> Chart {
        Chart {
            desktop: draw(desktop_width),
            narrow: draw(NARROW_WIDTH),
        }
    }
}

/// A choice of the range and bucket picker.
struct Choice {
    value: &'static str,
    label: String,
    checked: bool,
}

fn choices(options: &[(&'static str, &'static str)], picked: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|&(value, label)| Choice {
            value,
            label: label.to_owned(),
            checked: value == picked,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics_stream.html")]
struct StreamPage {
    tenant_name: String,
    user: SessionUser,
    show_analytics_link: bool,
    summary: Summary,
    live: bool,
    refresh_secs: u64,
    ranges: Vec<Choice>,
    buckets: Vec<Choice>,
    /// What the charts show, in words.
    shown: String,
    reactions_csv: String,
    reactions: Chart,
    chat: Chart,
    viewers: Chart,
    duration: String,
}

#[derive(Deserialize)]
struct PickerQuery {
    range: Option<String>,
    bucket: Option<String>,
}

async fn stream_page(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    path: Result<Path<i32>, PathRejection>,
    query: Result<Query<PickerQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let next = match &path {
        Ok(Path(id)) => format!("/analytics/streams/{id}"),
        Err(_) => "/analytics".to_owned(),
    };
    let user = analyst(user, &next)?;
    let Ok(Path(id)) = path else {
        return Err(no_such_stream());
    };
    let (pool, schema) = (&state.pool, &tenant.schema);
    let Some(summary) = analytics::summary(pool, schema, id).await? else {
        return Err(no_such_stream());
    };
    let Some(timeline) = analytics::timeline(pool, schema, id).await? else {
        return Err(no_such_stream());
    };
    let Query(picker) = query.map_err(|rejection| {
        Refusal::Page(
            StatusCode::BAD_REQUEST,
            format!("The range and bucket could not be read: {rejection}"),
        )
    })?;
    let invalid = |message: String| Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, message);
    let range = picker.range.as_deref().unwrap_or("all");
    let bucket = picker.bucket.as_deref().unwrap_or("auto");
    let span = Span::parse(range).map_err(invalid)?;
    let bucket_choice = rules::parse_bucket_choice(bucket).map_err(invalid)?;
    let (start, end) = extent(&summary.status, &timeline, now());
    let window = rules::window(span, bucket_choice, start, end).map_err(invalid)?;

    let interval = window.bucket.interval();
    let (from, to) = (window.from, window.to);
    let reaction_rows = analytics::reaction_series(pool, schema, id, from, to, interval).await?;
    let chat_rows = analytics::chat_series(pool, schema, id, from, to, interval).await?;
    let viewer_rows = analytics::viewer_series(pool, schema, id, from, to, interval).await?;

    // Every bucket of the window gets a bar, so the bars' positions are times.
    let mut parts: HashMap<i64, Vec<StackPart>> = reaction_rows
        .iter()
        .map(|b| {
            let parts = b
                .counts
                .iter()
                .map(|c| StackPart {
                    stamp_id: c.stamp_id,
                    count: c.count,
                })
                .collect();
            (b.start_unix, parts)
        })
        .collect();
    let stacks: Vec<StackBucket> = window
        .starts()
        .map(|start_unix| StackBucket {
            start_unix,
            parts: parts.remove(&start_unix).unwrap_or_default(),
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
    let chat: HashMap<i64, i64> = chat_rows.iter().map(|&(t, n)| (unix(t), n)).collect();
    // No chat at all reads better as "No data yet" than as a flat line.
    let chat_points: Vec<(i64, f64)> = if chat.is_empty() {
        Vec::new()
    } else {
        window
            .starts()
            .map(|t| (t, chat.get(&t).copied().unwrap_or(0) as f64))
            .collect()
    };
    let viewer_points: Vec<(i64, f64)> = viewer_rows
        .iter()
        .map(|&(t, n)| (unix(t), f64::from(n)))
        .collect();

    let per = window.bucket.per();
    let reactions_title = format!("Reactions per {per} by stamp");
    let chat_title = format!("Chat messages per {per}");
    let viewers_title = format!("Peak viewers per {per}");
    let reactions = Chart::draw(FULL_WIDTH, |w| {
        stacked_reactions(&stacks, &legend, &reactions_title, w)
    });
    let chat = Chart::draw(HALF_WIDTH, |w| {
        line_chart(&chat_points, &chat_title, "#4fc3ff", w)
    });
    let viewers = Chart::draw(HALF_WIDTH, |w| {
        line_chart(&viewer_points, &viewers_title, "#3ddc84", w)
    });

    let mut buckets = choices(&rules::BUCKETS, bucket);
    if let Some(auto) = buckets.iter_mut().find(|c| c.value == "auto") {
        if bucket_choice.is_none() {
            auto.label = format!("Auto ({})", window.bucket.key());
        }
    }
    let d = summary.duration_secs.max(0);
    Ok(StreamPage {
        tenant_name: tenant.name.clone(),
        show_analytics_link: sees_analytics(user.role),
        user,
        live: summary.status == "live",
        refresh_secs: state.config.analytics_refresh_secs,
        ranges: choices(&rules::SPANS, range),
        buckets,
        shown: shown(&window),
        reactions_csv: format!(
            "/api/analytics/streams/{id}/reactions?format=csv&bucket={}&from={}&to={}",
            window.bucket.key(),
            format_timestamp(window.from),
            format_timestamp(window.to),
        ),
        reactions,
        chat,
        viewers,
        duration: format!("{}h {:02}m", d / 3600, (d % 3600) / 60),
        summary,
    }
    .into_response())
}

/// Where a stream's timeline starts and ends: its run (up to now while it
/// runs), stretched over any figure recorded outside it.
fn extent(
    status: &str,
    timeline: &Timeline,
    now: PrimitiveDateTime,
) -> (PrimitiveDateTime, PrimitiveDateTime) {
    let run_end = match (status, timeline.ended_at) {
        ("ended", Some(ended)) => ended,
        _ => now,
    };
    let end = match timeline.last_data {
        Some(last) => run_end.max(last + Duration::minutes(1)),
        None => run_end,
    };
    let start = [timeline.started_at, timeline.first_data]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(end - Duration::hours(1));
    (start.min(end), end)
}

/// The window in words, e.g. "2026-11-23 11:34 – 12:35 UTC in 1-minute buckets".
fn shown(window: &Window) -> String {
    let hhmm = |t: PrimitiveDateTime| format!("{:02}:{:02}", t.hour(), t.minute());
    let to = if window.to.date() == window.from.date() {
        hhmm(window.to)
    } else {
        format!("{} {}", window.to.date(), hhmm(window.to))
    };
    let mut text = format!(
        "{} {} – {to} UTC in {} buckets",
        window.from.date(),
        hhmm(window.from),
        window.bucket.adjective()
    );
    if window.clipped {
        text.push_str(" (the latest part of a longer stream)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn timeline(
        started: Option<PrimitiveDateTime>,
        ended: Option<PrimitiveDateTime>,
        data: Option<(PrimitiveDateTime, PrimitiveDateTime)>,
    ) -> Timeline {
        Timeline {
            started_at: started,
            ended_at: ended,
            first_data: data.map(|d| d.0),
            last_data: data.map(|d| d.1),
        }
    }

    #[test]
    fn the_timeline_runs_to_now_while_live_and_to_the_end_after() {
        let now = datetime!(2026-11-23 12:00);
        let start = datetime!(2026-11-23 10:00);
        let live = timeline(Some(start), None, None);
        assert_eq!(extent("live", &live, now), (start, now));
        let ended = timeline(Some(start), Some(datetime!(2026-11-23 11:00)), None);
        assert_eq!(
            extent("ended", &ended, now),
            (start, datetime!(2026-11-23 11:00))
        );
        // Figures recorded outside the run stretch it.
        let early = timeline(
            Some(start),
            Some(datetime!(2026-11-23 11:00)),
            Some((datetime!(2026-11-23 09:10), datetime!(2026-11-23 11:30))),
        );
        assert_eq!(
            extent("ended", &early, now),
            (datetime!(2026-11-23 09:10), datetime!(2026-11-23 11:31))
        );
        // Not started: the hour before now.
        let scheduled = timeline(None, None, None);
        assert_eq!(
            extent("scheduled", &scheduled, now),
            (datetime!(2026-11-23 11:00), now)
        );
    }

    #[test]
    fn the_window_is_described_in_words() {
        let window = Window {
            from: datetime!(2026-11-23 11:34),
            to: datetime!(2026-11-23 12:35),
            bucket: crate::analytics::BucketSize::Minute,
            clipped: false,
        };
        assert_eq!(
            shown(&window),
            "2026-11-23 11:34 – 12:35 UTC in 1-minute buckets"
        );
    }
}
