//! `stampede-replay-bench`: one three-hour stream with N chat lines (and a
//! pin a minute, reactions every second), written with set-based SQL, then
//! random windows of stream time read through `store::replay::page`, the
//! query behind `GET /api/streams/{id}/replay`. Results go in
//! docs/benchmarks.md.
//!
//! `DATABASE_URL=… stampede-replay-bench --tenant replaybench --messages 1000000`

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use rand::Rng;
use stampede::store::replay::{self, Window};
use stampede::store::{streams, tenants};
use stampede::tenant::SchemaName;

/// The stream's length.
const STREAM_SECS: i64 = 3 * 3600;

#[derive(Parser)]
struct Args {
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Tenant schema to create for the benchmark (in a fresh database).
    #[arg(long, default_value = "replaybench")]
    tenant: String,
    #[arg(long, default_value_t = 1_000_000)]
    messages: i64,
    #[arg(long, default_value_t = 1000)]
    users: i64,
    /// Random windows read.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// The window's length.
    #[arg(long, default_value_t = 600_000)]
    window_ms: i64,
    /// Lines per page (the API's default is 500, its maximum 1000).
    #[arg(long, default_value_t = 500)]
    limit: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = stampede::store::connect(&args.database_url, 4).await?;
    stampede::cli::migrate_all(&pool).await?;
    let schema = SchemaName::parse(&args.tenant)?;
    if tenants::get_by_schema(&pool, &schema).await.is_ok() {
        anyhow::bail!("tenant {schema} exists: run against a fresh database");
    }
    let domain = format!("{}.localhost", args.tenant);
    tenants::create(&pool, &schema, "Replay bench", &domain).await?;
    let stream = streams::create(&pool, &schema, "Three hours", None).await?;
    let room = streams::room(&pool, &schema, stream.id)
        .await?
        .context("the stream's room")?;
    let started = Instant::now();
    seed(&pool, &schema, &args, stream.id, room.id).await?;
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());

    let mut rng = rand::rng();
    let mut first_pages = Vec::with_capacity(args.samples);
    let mut whole_windows = Vec::with_capacity(args.samples);
    let (mut lines, mut pages) = (0usize, 0usize);
    for _ in 0..args.samples {
        let from_ms = rng.random_range(0..(STREAM_SECS * 1000 - args.window_ms));
        let mut window = Window {
            stream_id: stream.id,
            room_id: room.id,
            from_ms,
            to_ms: from_ms + args.window_ms,
            after_id: None,
            limit: args.limit,
        };
        let whole = Instant::now();
        loop {
            let one = Instant::now();
            let page = replay::page(&pool, &schema, &window)
                .await?
                .context("the stream started")?;
            if window.after_id.is_none() {
                first_pages.push(one.elapsed());
            }
            pages += 1;
            lines += page
                .items
                .iter()
                .filter(|i| matches!(i, replay::Item::Chat { .. }))
                .count();
            let Some((from, after)) = page.next else {
                break;
            };
            window.from_ms = from;
            window.after_id = Some(after);
        }
        whole_windows.push(whole.elapsed());
    }
    println!(
        "{} messages, {} windows of {} s: {:.0} lines and {:.1} pages of {} a window",
        args.messages,
        args.samples,
        args.window_ms / 1000,
        lines as f64 / args.samples as f64,
        pages as f64 / args.samples as f64,
        args.limit,
    );
    print_quantiles("one page", &mut first_pages);
    print_quantiles("whole window", &mut whole_windows);
    Ok(())
}

/// Lines spread evenly over the stream (one batch timestamp per 50, as the
/// chat writer commits), a pin each minute, three stamps every second.
async fn seed(
    pool: &sqlx::PgPool,
    schema: &SchemaName,
    args: &Args,
    stream_id: i32,
    room_id: i32,
) -> anyhow::Result<()> {
    let start = "TIMESTAMP '2026-12-01 10:00:00'";
    sqlx::query(&format!(
        "UPDATE {schema}.streaming_stream SET started_at = {start},
                ended_at = {start} + interval '{STREAM_SECS} seconds', status = 'ended'
         WHERE id = $1"
    ))
    .bind(stream_id)
    .execute(pool)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {schema}.accounts_user (username, password_hash)
         SELECT 'rb' || g, 'x' FROM generate_series(1, $1) g"
    ))
    .bind(args.users)
    .execute(pool)
    .await?;
    let step_ms = (STREAM_SECS * 1000) as f64 / args.messages as f64;
    let chunk = 200_000;
    let mut done = 0;
    while done < args.messages {
        let n = chunk.min(args.messages - done);
        sqlx::query(&format!(
            "INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content, created_at)
             SELECT $1, (SELECT min(id) FROM {schema}.accounts_user) + g % $2,
                    CASE g % 3 WHEN 0 THEN 'みなさんこんにちは！ 今日も楽しみ ' || g
                               WHEN 1 THEN 'nice play, that was close ' || g
                               ELSE '草 ' || g END,
                    {start} + make_interval(secs => floor(g / 50) * 50 * $3 / 1000)
             FROM generate_series($4::int8, $5::int8) g"
        ))
        .bind(room_id)
        .bind(args.users)
        .bind(step_ms)
        .bind(done)
        .bind(done + n - 1)
        .execute(pool)
        .await?;
        done += n;
    }
    sqlx::query(&format!(
        "INSERT INTO {schema}.chat_moderationaction (stream_id, action, target_message_id, created_at)
         SELECT $1, CASE WHEN m % 2 = 0 THEN 'pin' ELSE 'unpin' END,
                (SELECT min(id) FROM {schema}.chat_chatmessage), {start} + make_interval(mins => m::int)
         FROM generate_series(0, $2 / 60 - 1) m"
    ))
    .bind(stream_id)
    .bind(STREAM_SECS)
    .execute(pool)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {schema}.streaming_reactionsecond (stream_id, stamp_id, second, count)
         SELECT $1, st, {start} + make_interval(secs => sec), 1 + (sec * st) % 40
         FROM generate_series(0, $2 - 1) sec, generate_series(1, 3) st"
    ))
    .bind(stream_id)
    .bind(STREAM_SECS)
    .execute(pool)
    .await?;
    sqlx::query(&format!("ANALYZE {schema}.chat_chatmessage"))
        .execute(pool)
        .await?;
    Ok(())
}

fn print_quantiles(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    println!(
        "{label}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
