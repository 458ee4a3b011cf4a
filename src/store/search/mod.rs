//! Message search: the lines of a scope (a room or the whole tenant,
//! optionally one author's) that contain every term, newest first, paged
//! by id.
//!
//! Two ways to find them, because neither is fast for every term:
//! - reading the scope's lines newest first through its btree index
//!   (room, author or primary key) and checking each: fast when matches
//!   are common, hopeless when they are rare;
//! - the trigram index (`idx_chatmessage_search`, tenant-wide): it returns
//!   every candidate at once, unordered, so it is fast when the term is
//!   rare in the tenant and hopeless when it is common (a word in one line
//!   of eight of ten million lines is 1.25 million rows to fetch and sort).
//!   Postgres cannot tell the two apart from a `LIKE` pattern's statistics,
//!   so the choice is made here, from what the first reading found.
//!
//! A page first reads [`RECENT_LINES`] lines of the scope. If they hold
//! matches dense enough to fill the page within [`SCAN_AHEAD_LINES`] more
//! lines, it reads on, doubling; otherwise it asks the trigram index for
//! id windows going back, each twice as wide as the one before (a window
//! bounds the rows Postgres fetches to recheck, which is what a trigram
//! search costs). Every statement after the first runs under a
//! `statement_timeout` of what is left of the budget; when it runs out, the
//! page is returned short and `next` says where the search stopped: every
//! line from there up was searched, so continuing from it misses nothing.
//! (The first reading always completes, so each page moves on.)
//!
//! Queries without a trigram (every term under three letters) cannot use
//! the index: they search the newest [`SHORT_QUERY_LINES`] lines of the
//! scope only, whatever `before` says.

pub mod terms;

use std::time::{Duration, Instant};

use sqlx::{PgPool, Postgres, QueryBuilder};
use time::PrimitiveDateTime;

use super::StoreError;
use crate::tenant::SchemaName;
pub use terms::{Matcher, QueryError, Terms};

/// Lines of the scope read newest first before anything else.
pub const RECENT_LINES: i64 = 2_000;
/// How many more lines a page reads rather than asking the trigram index,
/// at the density of matches the first reading found.
pub const SCAN_AHEAD_LINES: i64 = 20_000;
/// Lines of the scope a query without a trigram searches at most.
pub const SHORT_QUERY_LINES: i64 = 10_000;
/// How long the trigram index is given to answer for everything at once.
const AT_ONCE: Duration = Duration::from_millis(20);
/// The first trigram window's width in ids, at least.
const MIN_WINDOW: i64 = 50_000;
/// A statement never gets less time than this.
const MIN_STATEMENT: Duration = Duration::from_millis(15);
/// Higher than every id (ids are `int4`).
const ABOVE_ALL: i64 = i32::MAX as i64 + 1;

/// What to search.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// One room's lines, or (`None`) the whole tenant's.
    pub room_id: Option<i32>,
    /// One author's lines only.
    pub user_id: Option<i32>,
    /// Deleted lines too (moderators).
    pub with_deleted: bool,
    /// Empty: every line of the scope (then `user_id` narrows it).
    pub terms: &'a Terms,
    /// Lines with ids below this only (the keyset cursor).
    pub before: Option<i64>,
    pub limit: i64,
    /// Time after which the page stops and returns short
    /// (`--search-budget-ms`).
    pub budget: Duration,
}

/// A matching line.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Hit {
    pub id: i32,
    pub stream_id: Option<i32>,
    pub username: Option<String>,
    /// As stored (HTML-escaped).
    pub content: String,
    pub created_at: Option<PrimitiveDateTime>,
    /// Milliseconds since the stream's start, if it has one.
    pub t_ms: Option<i64>,
    pub deleted: bool,
    /// `visible`, or `held` / `denied` by auto-moderation (hidden, so
    /// `deleted` too).
    pub status: String,
}

/// One page of results, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub hits: Vec<Hit>,
    /// The `before` of the next page; `None` when nothing older matches.
    pub next_before: Option<i64>,
}

/// Searches one page.
pub async fn page(
    pool: &PgPool,
    schema: &SchemaName,
    search: &Search<'_>,
) -> Result<Page, StoreError> {
    let mut run = Run {
        pool,
        schema,
        search,
        started: Instant::now(),
        want: search.limit + 1,
        hits: Vec::new(),
    };
    let top = search.before.unwrap_or(ABOVE_ALL);
    if search.terms.is_empty() {
        // The author's lines, in the order of the scope's index.
        run.hits = below(pool, schema, search, (0, top), run.want, None).await?;
        return Ok(run.done());
    }
    if !search.terms.indexable() {
        let bottom = nth_newest(pool, schema, search, SHORT_QUERY_LINES, ABOVE_ALL).await?;
        return match run.read_back(top, bottom.unwrap_or(0), false).await? {
            Step::Done(page) => Ok(page),
            Step::Sparse { top } => Ok(run.stopped(top)),
        };
    }
    match run.read_back(top, 0, true).await? {
        Step::Done(page) => Ok(page),
        Step::Sparse { top } => run.trigrams_back(top).await,
    }
}

/// One page's search under way.
struct Run<'a> {
    pool: &'a PgPool,
    schema: &'a SchemaName,
    search: &'a Search<'a>,
    started: Instant,
    /// One more than the page's limit: the extra one says there is more.
    want: i64,
    hits: Vec<Hit>,
}

/// Where reading newest first left a page.
enum Step {
    /// Finished (full, the scope read to its start or bottom, or out of time).
    Done(Page),
    /// Matches are too sparse to read on below `top`, where the reading
    /// stopped (what it found stays in the run).
    Sparse { top: i64 },
}

impl Run<'_> {
    /// The time left of the budget, `None` once it is spent.
    fn left(&self) -> Option<Duration> {
        let left = self.search.budget.saturating_sub(self.started.elapsed());
        (!left.is_zero()).then(|| left.max(MIN_STATEMENT))
    }

    fn need(&self) -> i64 {
        self.want - self.hits.len() as i64
    }

    /// The hits cut to the page's limit: `next` only if there were more.
    fn done(&mut self) -> Page {
        cut(std::mem::take(&mut self.hits), self.search.limit)
    }

    /// The hits, with `next` at `top` (everything from there up searched).
    fn stopped(&mut self, top: i64) -> Page {
        Page {
            hits: std::mem::take(&mut self.hits),
            next_before: Some(top),
        }
    }

    /// Reads the scope newest first from `top` down to `bottom`, in
    /// readings of doubling size, while the page is not full and time is
    /// left; with `may_stop`, stops as soon as matches are too sparse to
    /// fill the page within [`SCAN_AHEAD_LINES`].
    async fn read_back(
        &mut self,
        mut top: i64,
        bottom: i64,
        may_stop: bool,
    ) -> Result<Step, StoreError> {
        let (pool, schema, search) = (self.pool, self.schema, self.search);
        let (mut lines, mut read_so_far) = (RECENT_LINES, 0);
        loop {
            // The first reading always completes (so that every page moves on).
            let timeout = match (read_so_far, self.left()) {
                (0, _) => None,
                (_, Some(left)) => Some(left),
                (_, None) => return Ok(Step::Done(self.stopped(top))),
            };
            let floor = nth_newest(pool, schema, search, lines, top).await?;
            let low = floor.unwrap_or(0).max(bottom);
            match read(
                pool,
                schema,
                search,
                (low, top),
                lines,
                self.need(),
                timeout,
            )
            .await
            {
                Ok(more) => self.hits.extend(more),
                Err(StoreError::Database(err)) if is_timeout(&err) => {
                    return Ok(Step::Done(self.stopped(top)))
                }
                Err(err) => return Err(err),
            }
            if self.need() <= 0 || low == bottom {
                return Ok(Step::Done(self.done()));
            }
            top = low;
            read_so_far += lines;
            let per_line = self.hits.len() as f64 / read_so_far as f64;
            if may_stop && per_line * (SCAN_AHEAD_LINES as f64) < self.need() as f64 {
                return Ok(Step::Sparse { top });
            }
            lines = lines.saturating_mul(2);
        }
    }

    /// The matches below `top` through the trigram index: first all at
    /// once, briefly (a rare term takes milliseconds); if that runs out of
    /// time, over id windows going back, each twice as wide as the one
    /// before. A window bounds the rows Postgres fetches to recheck, which
    /// is what a trigram search costs (a word in one line of a thousand is
    /// ten thousand rows of a ten-million-line tenant).
    async fn trigrams_back(&mut self, mut top: i64) -> Result<Page, StoreError> {
        let (pool, schema, search) = (self.pool, self.schema, self.search);
        let Some(left) = self.left() else {
            return Ok(self.stopped(top));
        };
        let at_once = Some(left.min(AT_ONCE));
        match below(pool, schema, search, (0, top), self.need(), at_once).await {
            Ok(more) => {
                self.hits.extend(more);
                return Ok(self.done());
            }
            Err(StoreError::Database(err)) if is_timeout(&err) => {}
            Err(err) => return Err(err),
        }
        let newest = match search.before {
            Some(before) => before,
            None => nth_newest(pool, schema, search, 1, ABOVE_ALL)
                .await?
                .map_or(top, |id| id + 1),
        };
        let mut width = newest.saturating_sub(top).saturating_mul(8).max(MIN_WINDOW);
        loop {
            let Some(left) = self.left() else {
                return Ok(self.stopped(top));
            };
            let low = top.saturating_sub(width).max(0);
            match below(pool, schema, search, (low, top), self.need(), Some(left)).await {
                Ok(more) => self.hits.extend(more),
                Err(StoreError::Database(err)) if is_timeout(&err) => return Ok(self.stopped(top)),
                Err(err) => return Err(err),
            }
            if self.need() <= 0 || low == 0 {
                return Ok(self.done());
            }
            top = low;
            width = width.saturating_mul(2);
        }
    }
}

/// `hits` cut to `limit`; `next` is the last kept id when more were found.
fn cut(mut hits: Vec<Hit>, limit: i64) -> Page {
    let limit = usize::try_from(limit).unwrap_or(0);
    if hits.len() > limit {
        hits.truncate(limit);
        let next_before = hits.last().map(|h| i64::from(h.id));
        return Page { hits, next_before };
    }
    Page {
        hits,
        next_before: None,
    }
}

/// The conditions of the scope (room, author) on alias `m`.
fn push_scope(q: &mut QueryBuilder<'_, Postgres>, search: &Search<'_>) {
    if let Some(room_id) = search.room_id {
        q.push(" AND m.room_id = ").push_bind(room_id);
    }
    if let Some(user_id) = search.user_id {
        q.push(" AND m.user_id = ").push_bind(user_id);
    }
}

/// The id of the `n`th newest line of the scope (below `top`), if it has
/// that many: the lowest id a scan of that many lines reaches.
async fn nth_newest(
    pool: &PgPool,
    schema: &SchemaName,
    search: &Search<'_>,
    n: i64,
    top: i64,
) -> Result<Option<i64>, StoreError> {
    let mut q = QueryBuilder::new(format!(
        "SELECT m.id::int8 FROM {schema}.chat_chatmessage m WHERE m.id < "
    ));
    q.push_bind(top);
    push_scope(&mut q, search);
    q.push(" ORDER BY m.id DESC OFFSET ")
        .push_bind(n - 1)
        .push(" LIMIT 1");
    Ok(q.build_query_scalar::<i64>()
        .persistent(false)
        .fetch_optional(pool)
        .await?)
}

/// The columns of a hit, from lines `m` of a `FROM` clause the caller
/// pushes next.
fn select() -> QueryBuilder<'static, Postgres> {
    QueryBuilder::new(
        "SELECT m.id, r.stream_id, u.username, m.content, m.created_at,
                COALESCE(m.is_deleted, false) AS deleted, m.status,
                floor(extract(epoch FROM (m.created_at - s.started_at)) * 1000)::int8 AS t_ms
         FROM ",
    )
}

/// The joins for [`select`], then the conditions on a line besides its
/// scope: a user's chat line, not deleted unless asked, every term in it.
fn push_filters(q: &mut QueryBuilder<'_, Postgres>, schema: &SchemaName, search: &Search<'_>) {
    q.push(format!(
        " LEFT JOIN {schema}.accounts_user u ON u.id = m.user_id
         LEFT JOIN {schema}.chat_chatroom r ON r.id = m.room_id
         LEFT JOIN {schema}.streaming_stream s ON s.id = r.stream_id
         WHERE m.message_type = 'message'"
    ));
    if !search.with_deleted {
        q.push(" AND NOT COALESCE(m.is_deleted, false)");
    }
    // The same expression as the index's, so that the planner can answer
    // `LIKE` from it; patterns come from bound terms, never from the text.
    for matcher in search.terms.matchers() {
        match matcher {
            Matcher::Like(pattern) => {
                q.push(" AND public.stampede_search_text(m.content) LIKE '%' || lower(")
                    .push_bind(pattern)
                    .push(") || '%'");
            }
            Matcher::Contains(term) => {
                q.push(" AND strpos(public.stampede_search_text(m.content), lower(")
                    .push_bind(term)
                    .push(")) > 0");
            }
        }
    }
}

/// Up to `limit` matches among the newest `lines` lines of the scope with
/// ids in `[low, top)`, newest first. The lines are read in id order
/// through the scope's index: the subquery's `LIMIT` keeps the planner
/// from reaching for the trigram index, which would fetch every match of
/// the tenant however common the term.
async fn read(
    pool: &PgPool,
    schema: &SchemaName,
    search: &Search<'_>,
    (low, top): (i64, i64),
    lines: i64,
    limit: i64,
    timeout: Option<Duration>,
) -> Result<Vec<Hit>, StoreError> {
    let mut q = select();
    q.push(format!(
        "(SELECT * FROM {schema}.chat_chatmessage m WHERE m.id >= "
    ))
    .push_bind(low)
    .push(" AND m.id < ")
    .push_bind(top);
    push_scope(&mut q, search);
    q.push(" ORDER BY m.id DESC LIMIT ")
        .push_bind(lines)
        .push(") m");
    push_filters(&mut q, schema, search);
    q.push(" ORDER BY m.id DESC LIMIT ").push_bind(limit);
    fetch(pool, q, timeout).await
}

/// Up to `limit` matches of the scope with ids in `[low, top)`, newest
/// first, the way the planner likes: with terms, through the trigram index
/// (and the scope's or the primary key's); without, the scope's index.
async fn below(
    pool: &PgPool,
    schema: &SchemaName,
    search: &Search<'_>,
    (low, top): (i64, i64),
    limit: i64,
    timeout: Option<Duration>,
) -> Result<Vec<Hit>, StoreError> {
    let mut q = select();
    q.push(format!("{schema}.chat_chatmessage m"));
    push_filters(&mut q, schema, search);
    q.push(" AND m.id >= ").push_bind(low);
    q.push(" AND m.id < ").push_bind(top);
    push_scope(&mut q, search);
    q.push(" ORDER BY m.id DESC LIMIT ").push_bind(limit);
    fetch(pool, q, timeout).await
}

/// Runs `q`, within `timeout` if given (the statement is cancelled after
/// it). Not prepared: each search is planned with its own terms and
/// bounds (a generic plan cannot tell a rare term from a common one).
async fn fetch(
    pool: &PgPool,
    mut q: QueryBuilder<'_, Postgres>,
    timeout: Option<Duration>,
) -> Result<Vec<Hit>, StoreError> {
    let query = q.build_query_as::<Hit>().persistent(false);
    let Some(timeout) = timeout else {
        return Ok(query.fetch_all(pool).await?);
    };
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('statement_timeout', $1, true)")
        .bind(format!("{}ms", timeout.as_millis()))
        .execute(&mut *tx)
        .await?;
    let hits = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(hits)
}

/// The statement ran out of its `statement_timeout` (57014).
fn is_timeout(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("57014"))
}
