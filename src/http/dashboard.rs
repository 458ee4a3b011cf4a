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
use serde::Deserialize;
use time::{Duration, PrimitiveDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analytics::charts::{
    line_chart, stacked_reactions, LegendEntry, Reader, StackBucket, StackPart,
};
use crate::analytics::{self as rules, now, unix, PickerError, Span, Window};
use crate::auth::csrf::Csrf;
use crate::auth::{MaybeUser, SessionUser};
use crate::error::{with_refusal_headers, AppError, ErrorPage};
use crate::http::api::analytics::sees_analytics;
use crate::http::nav::Nav;
use crate::i18n::{I18n, Zone};
use crate::state::AppState;
use crate::store::analytics::{self, StampCount, StreamActivity, Summary, Timeline};
use crate::store::{format_timestamp, StoreError};
use crate::tenant::CurrentTenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(stream_page))
}

/// Why the dashboard was not shown.
enum Refusal {
    /// Not logged in: go to the login form, then back to this path.
    Login(String),
    /// The error page with this status and headline (in the reader's words).
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

impl Refusal {
    fn respond(self, i18n: I18n) -> Response {
        match self {
            Refusal::Login(next) => {
                Redirect::to(&format!("/accounts/login?next={next}")).into_response()
            }
            Refusal::Page(status, headline) => {
                ErrorPage::new(i18n, status, headline, None).respond()
            }
            Refusal::App(err) => with_refusal_headers(err.page(i18n).respond(), &err),
        }
    }
}

/// The page, or the refusal worded for the reader.
fn answer(result: Result<Response, Refusal>, i18n: I18n) -> Response {
    result.unwrap_or_else(|refusal| refusal.respond(i18n))
}

fn no_such_stream(i18n: I18n) -> Refusal {
    Refusal::Page(StatusCode::NOT_FOUND, i18n.t("error-no-such-stream"))
}

/// The analyst, or why not.
fn analyst(user: Option<SessionUser>, next: &str, i18n: I18n) -> Result<SessionUser, Refusal> {
    let user = user.ok_or_else(|| Refusal::Login(next.to_owned()))?;
    if !sees_analytics(user.role) {
        return Err(Refusal::Page(
            StatusCode::FORBIDDEN,
            i18n.t("error-analytics-forbidden"),
        ));
    }
    Ok(user)
}

/// A refused picker value, in the reader's words.
fn picker_refusal(err: PickerError, i18n: I18n) -> Refusal {
    let headline = match &err {
        PickerError::Range(value) => i18n.t1("error-bad-range", "value", value),
        PickerError::Bucket(value) => i18n.t1("error-bad-bucket", "value", value),
        PickerError::TooManyBars { bucket, bars } => i18n.tn(
            "error-too-many-bars",
            &[
                ("bucket", &i18n.t(&format!("an-bucket-{}", bucket.key()))),
                ("bars", &bars.to_string()),
                ("max", &rules::MAX_BARS.to_string()),
            ],
        ),
    };
    Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, headline)
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics.html")]
struct OverviewPage {
    i18n: I18n,
    nav: Nav,
    tenant_name: String,
    total: i64,
    stamps: Vec<StampCount>,
    streams: Vec<StreamActivity>,
}

#[utoipa::path(
    get,
    path = "/analytics",
    tag = "pages",
    summary = "The analysts' dashboard: the tenant's last 30 days",
    responses(
        (status = 200, description = "HTML.", content_type = "text/html", body = String),
        (status = 303, description = "Not logged in: to the login form."),
        (status = 403, description = "Not an analyst or admin (an HTML error page).", content_type = "text/html", body = String),
    ),
    security(("session" = []))
)]
async fn overview(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    csrf: Csrf,
    i18n: I18n,
) -> Response {
    let page = async {
        let user = analyst(user, "/analytics", i18n)?;
        let to = now() + Duration::minutes(1);
        let from = to - Duration::days(30);
        let stamps =
            analytics::stamp_totals(&state.pool, &tenant.schema, None, Some((from, to))).await?;
        let streams = analytics::stream_activity(&state.pool, &tenant.schema, from, to).await?;
        let page = OverviewPage {
            i18n,
            nav: Nav::new(Some(&user), &csrf.token).on_analytics(),
            tenant_name: tenant.name.clone(),
            total: stamps.iter().map(|s| s.count).sum(),
            stamps,
            streams,
        };
        Ok((csrf, page).into_response())
    };
    answer(page.await, i18n)
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

/// The picker's `values`, worded from `prefix` + value.
fn choices(values: &[&'static str], prefix: &str, picked: &str, i18n: I18n) -> Vec<Choice> {
    values
        .iter()
        .map(|&value| Choice {
            value,
            label: i18n.t(&format!("{prefix}{value}")),
            checked: value == picked,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics_stream.html")]
struct StreamPage {
    i18n: I18n,
    nav: Nav,
    tenant_name: String,
    summary: Summary,
    live: bool,
    refresh_secs: u64,
    ranges: Vec<Choice>,
    buckets: Vec<Choice>,
    /// What the charts show, in words.
    shown: String,
    /// The time zone the times are in (`zone.js` compares it).
    zone: String,
    reactions_csv: String,
    reactions: Chart,
    chat: Chart,
    viewers: Chart,
    duration: String,
}

impl StreamPage {
    /// The stream's state, in words.
    fn status_word(&self) -> String {
        match self.summary.status.as_str() {
            "live" => self.i18n.t("badge-live"),
            "scheduled" => self.i18n.t("badge-upcoming"),
            _ => self.i18n.t("badge-ended"),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PickerQuery {
    /// The range picker's choice.
    range: Option<String>,
    /// The bucket picker's choice.
    bucket: Option<String>,
}

#[utoipa::path(
    get,
    path = "/analytics/streams/{id}",
    tag = "pages",
    summary = "One stream's dashboard: reactions, chat and viewers over time",
    params(("id" = i32, Path, description = "The stream's id."), PickerQuery),
    responses(
        (status = 200, description = "HTML.", content_type = "text/html", body = String),
        (status = 303, description = "Not logged in: to the login form."),
        (status = 403, description = "Not an analyst or admin (an HTML error page).", content_type = "text/html", body = String),
        (status = 404, description = "No such stream (an HTML error page).", content_type = "text/html", body = String),
        (status = 422, description = "A range or bucket the picker does not offer (an HTML error page).", content_type = "text/html", body = String),
    ),
    security(("session" = []))
)]
#[allow(clippy::too_many_arguments)]
async fn stream_page(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    csrf: Csrf,
    i18n: I18n,
    zone: Zone,
    path: Result<Path<i32>, PathRejection>,
    query: Result<Query<PickerQuery>, QueryRejection>,
) -> Response {
    let reader = Reader { i18n, zone };
    let page = async {
        let next = match &path {
            Ok(Path(id)) => format!("/analytics/streams/{id}"),
            Err(_) => "/analytics".to_owned(),
        };
        let user = analyst(user, &next, i18n)?;
        let Ok(Path(id)) = path else {
            return Err(no_such_stream(i18n));
        };
        let Query(picker) = query
            .map_err(|_| Refusal::Page(StatusCode::BAD_REQUEST, i18n.t("error-bad-picker")))?;
        let nav = Nav::new(Some(&user), &csrf.token).on_analytics();
        let page = draw_stream_page(&state, &tenant, id, picker, &reader, nav).await?;
        Ok((csrf, page).into_response())
    };
    answer(page.await, i18n)
}

/// The stream page's figures and charts, under header `nav`.
async fn draw_stream_page(
    state: &AppState,
    tenant: &CurrentTenant,
    id: i32,
    picker: PickerQuery,
    reader: &Reader,
    nav: Nav,
) -> Result<StreamPage, Refusal> {
    let i18n = reader.i18n;
    let (pool, schema) = (&state.pool, &tenant.schema);
    let Some(summary) = analytics::summary(pool, schema, id).await? else {
        return Err(no_such_stream(i18n));
    };
    let Some(timeline) = analytics::timeline(pool, schema, id).await? else {
        return Err(no_such_stream(i18n));
    };
    let invalid = |err: PickerError| picker_refusal(err, i18n);
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

    let key = window.bucket.key();
    let reactions_title = i18n.t(&format!("an-chart-reactions-{key}"));
    let chat_title = i18n.t(&format!("an-chart-chat-{key}"));
    let viewers_title = i18n.t(&format!("an-chart-viewers-{key}"));
    let reactions = Chart::draw(FULL_WIDTH, |w| {
        stacked_reactions(&stacks, &legend, &reactions_title, w, reader)
    });
    let chat = Chart::draw(HALF_WIDTH, |w| {
        line_chart(&chat_points, &chat_title, "#4fc3ff", w, reader)
    });
    let viewers = Chart::draw(HALF_WIDTH, |w| {
        line_chart(&viewer_points, &viewers_title, "#3ddc84", w, reader)
    });

    let mut buckets = choices(&rules::BUCKETS, "an-bucket-", bucket, i18n);
    if let Some(auto) = buckets.iter_mut().find(|c| c.value == "auto") {
        if bucket_choice.is_none() {
            auto.label = i18n.t1(
                "an-bucket-auto-picked",
                "bucket",
                &i18n.t(&format!("an-bucket-{key}")),
            );
        }
    }
    let d = summary.duration_secs.max(0);
    Ok(StreamPage {
        i18n,
        nav,
        tenant_name: tenant.name.clone(),
        live: summary.status == "live",
        refresh_secs: state.config.analytics_refresh_secs,
        ranges: choices(&rules::SPANS, "an-range-", range, i18n),
        buckets,
        shown: shown(&window, reader),
        zone: reader.zone.name().to_owned(),
        reactions_csv: format!(
            "/api/analytics/streams/{id}/reactions?format=csv&bucket={key}&from={}&to={}",
            format_timestamp(window.from),
            format_timestamp(window.to),
        ),
        reactions,
        chat,
        viewers,
        duration: i18n.tn(
            "an-duration",
            &[
                ("hours", &(d / 3600).to_string()),
                ("minutes", &format!("{:02}", (d % 3600) / 60)),
            ],
        ),
        summary,
    })
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

/// The window in words, e.g. "2026-11-23 11:34 – 12:35 (UTC), 1-minute
/// buckets", on the reader's clock.
fn shown(window: &Window, reader: &Reader) -> String {
    let zone = &reader.zone;
    let (from, to) = (unix(window.from), unix(window.to));
    let to_text = if zone.date(to) == zone.date(from) {
        zone.hhmm(to)
    } else {
        format!("{} {}", zone.date(to), zone.hhmm(to))
    };
    let id = if window.clipped {
        "an-shown-clipped"
    } else {
        "an-shown"
    };
    reader.i18n.tn(
        id,
        &[
            ("from", &format!("{} {}", zone.date(from), zone.hhmm(from))),
            ("to", &to_text),
            ("zone", zone.name()),
            (
                "bucket",
                &reader.i18n.t(&format!("an-bucket-{}", window.bucket.key())),
            ),
        ],
    )
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
            shown(&window, &Reader::default()),
            "2026-11-23 11:34 – 12:35 (UTC), 1 min buckets"
        );
        let tokyo = Reader {
            i18n: I18n(crate::i18n::Locale::Ja),
            zone: Zone::named("Asia/Tokyo").unwrap(),
        };
        let late = Window {
            from: datetime!(2026-11-23 14:30),
            to: datetime!(2026-11-23 15:10),
            ..window
        };
        assert_eq!(
            shown(&late, &tokyo),
            "2026-11-23 23:30 – 2026-11-24 00:10（Asia/Tokyo）、1分ごと"
        );
    }
}
