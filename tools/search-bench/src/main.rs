//! `stampede-search-bench`: a tenant with N chat lines over many streams
//! (written with set-based SQL, the indexes built afterwards as an
//! operator would on a restore), then a mix of searches through
//! `store::search::page`, the query behind both search routes. Prints
//! p50/p99 per kind of query and overall. Results go in docs/benchmarks.md.
//!
//! `DATABASE_URL=… stampede-search-bench --messages 10000000`
//! (`--reuse` searches a tenant seeded by an earlier run).

use std::time::{Duration, Instant};

use clap::Parser;
use rand::seq::IndexedRandom;
use rand::Rng;
use stampede::store::search::{self, Search, Terms};
use stampede::store::tenants;
use stampede::tenant::SchemaName;

#[derive(Parser)]
struct Args {
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Tenant schema to create for the benchmark (in a fresh database).
    #[arg(long, default_value = "searchbench")]
    tenant: String,
    #[arg(long, default_value_t = 10_000_000)]
    messages: i64,
    #[arg(long, default_value_t = 10_000)]
    users: i64,
    #[arg(long, default_value_t = 200)]
    streams: i64,
    /// Searches per kind of query.
    #[arg(long, default_value_t = 100)]
    samples: usize,
    /// Results per page (the API's default).
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// As `stampede serve --search-budget-ms`.
    #[arg(long, default_value_t = 70)]
    budget_ms: u64,
    /// Search the tenant an earlier run seeded instead of seeding.
    #[arg(long)]
    reuse: bool,
}

/// Japanese phrases: every line has one, so their words are common.
const JAPANESE: &[&str] = &[
    "みなさんこんにちは！",
    "今日も楽しみにしてました",
    "ナイスプレイ",
    "それな",
    "おつかれさまでした",
    "初見です、よろしくお願いします",
    "うまい！",
    "次のステージがんばって",
];
/// English phrases, likewise.
const ENGLISH: &[&str] = &[
    "nice play",
    "that was close",
    "hello from Brazil",
    "GG everyone",
    "what game is this",
    "lol",
    "let's go",
    "the boss fight was insane",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = stampede::store::connect(&args.database_url, 4).await?;
    stampede::cli::migrate_all(&pool).await?;
    let schema = SchemaName::parse(&args.tenant)?;
    let exists = tenants::get_by_schema(&pool, &schema).await.is_ok();
    match (exists, args.reuse) {
        (true, false) => anyhow::bail!("tenant {schema} exists: use --reuse or a fresh database"),
        (false, true) => anyhow::bail!("tenant {schema} does not exist yet"),
        (false, false) => {
            let domain = format!("{}.localhost", args.tenant);
            tenants::create(&pool, &schema, "Search bench", &domain).await?;
            seed(&pool, &schema, &args).await?;
        }
        (true, true) => {}
    }
    let (rooms, max_user): (Vec<i32>, i32) = (
        sqlx::query_scalar(&format!(
            "SELECT id FROM {schema}.chat_chatroom ORDER BY id"
        ))
        .fetch_all(&pool)
        .await?,
        sqlx::query_scalar(&format!("SELECT max(id) FROM {schema}.accounts_user"))
            .fetch_one(&pool)
            .await?,
    );
    // (kind, query, per stream, with an author)
    let kinds: &[(&str, &[&str], bool, bool)] = &[
        (
            "ja common, stream",
            &["こんにちは", "楽しみ", "ナイス"],
            true,
            false,
        ),
        (
            "en common, stream",
            &["NICE", "close", "boss fight"],
            true,
            false,
        ),
        ("ja/en, tenant", &["こんにちは", "insane"], false, false),
        ("0.1% word, stream", &["%"], true, false),
        ("0.1% word, tenant", &["%"], false, false),
        ("rare code, stream", &["#"], true, false),
        ("rare code, tenant", &["#"], false, false),
        (
            "no match, stream",
            &["zzqqxx", "存在しない言葉"],
            true,
            false,
        ),
        ("no match, tenant", &["zzqqxx"], false, false),
        ("short, stream", &["草", "gg", "w"], true, false),
        ("short, tenant", &["草", "lol"], false, false),
        ("author + word, stream", &["play", ""], true, true),
        ("author + word, tenant", &["play", ""], false, true),
    ];
    let mut rng = rand::rng();
    let mut all = Vec::new();
    let mut short_pages = 0;
    println!("| query | p50 ms | p99 ms | max ms | results/page |");
    println!("|---|---|---|---|---|");
    for (kind, queries, per_stream, by_author) in kinds {
        let mut times = Vec::with_capacity(args.samples);
        let mut found = 0;
        for _ in 0..args.samples {
            let q = match queries.choose(&mut rng).copied().unwrap_or_default() {
                // A code only a few lines hold (see `seed`).
                "#" => format!("code{}", rng.random_range(0..100_000)),
                // One of the thousand words (see `seed`).
                "%" => {
                    sqlx::query_scalar("SELECT 'w' || substr(md5($1::text), 1, 6)")
                        .bind(rng.random_range(0..1000))
                        .fetch_one(&pool)
                        .await?
                }
                q => q.to_owned(),
            };
            let terms = Terms::parse(&q)?;
            let search = Search {
                room_id: per_stream.then(|| *rooms.choose(&mut rand::rng()).unwrap_or(&1)),
                user_id: by_author.then(|| rng.random_range(1..=max_user)),
                with_deleted: !per_stream,
                terms: &terms,
                before: None,
                limit: args.limit,
                budget: Duration::from_millis(args.budget_ms),
            };
            let started = Instant::now();
            let page = search::page(&pool, &schema, &search).await?;
            times.push(started.elapsed());
            found += page.hits.len();
            if page.next_before.is_some() && (page.hits.len() as i64) < args.limit {
                short_pages += 1;
            }
        }
        all.extend_from_slice(&times);
        let (p50, p99, max) = quantiles(&mut times);
        println!(
            "| {kind} | {p50:.1} | {p99:.1} | {max:.1} | {:.1} |",
            found as f64 / args.samples as f64
        );
    }
    let (p50, p99, max) = quantiles(&mut all);
    println!(
        "| **all {}** | {p50:.1} | {p99:.1} | {max:.1} | |",
        all.len()
    );
    println!("pages cut short by the time budget: {short_pages}");
    Ok(())
}

/// Users, streams with their rooms, then the lines: rooms of very
/// different sizes, a Japanese and an English phrase each, a word that one
/// line in a thousand has, a code that one line in 100 has and each code
/// only about one line in 10,000,000, 1 %
/// deleted, over 30 days. Secondary indexes are dropped for the load and
/// built afterwards.
async fn seed(pool: &sqlx::PgPool, schema: &SchemaName, args: &Args) -> anyhow::Result<()> {
    let exec = |sql: String| async move { sqlx::query(&sql).execute(pool).await };
    let started = Instant::now();
    exec(format!(
        "INSERT INTO {schema}.accounts_user (username, password_hash)
         SELECT 'sb' || g, 'x' FROM generate_series(1, {}) g",
        args.users
    ))
    .await?;
    exec(format!(
        "INSERT INTO {schema}.streaming_stream (title, started_at)
         SELECT 'Stream ' || g, TIMESTAMP '2026-11-01' + make_interval(hours => g::int)
         FROM generate_series(1, {}) g",
        args.streams
    ))
    .await?;
    exec(format!(
        "INSERT INTO {schema}.chat_chatroom (name, stream_id)
         SELECT 'stream_' || id, id FROM {schema}.streaming_stream"
    ))
    .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes
         WHERE schemaname = $1 AND tablename = 'chat_chatmessage' AND indexname NOT LIKE '%pkey'",
    )
    .bind(schema.as_str())
    .fetch_all(pool)
    .await?;
    for (name, _) in &indexes {
        exec(format!("DROP INDEX {schema}.{name}")).await?;
    }
    let ja = sql_array(JAPANESE);
    let en = sql_array(ENGLISH);
    let chunk = 1_000_000;
    let mut done = 0;
    while done < args.messages {
        let n = chunk.min(args.messages - done);
        // h: a hash of g in [0, 1), for rooms of skewed sizes.
        exec(format!(
            "INSERT INTO {schema}.chat_chatmessage (room_id, user_id, content, is_deleted, created_at)
             SELECT 1 + floor({rooms} * h * h)::int, 1 + (g * 7919) % {users},
                    {ja}[1 + g % {nja}] || ' ' || {en}[1 + (g / 7) % {nen}]
                      || ' w' || substr(md5((g % 1000)::text), 1, 6)
                      || CASE WHEN g % 100 = 0 THEN ' code' || (g / 100) % 100000 ELSE '' END,
                    g % 100 = 37,
                    TIMESTAMP '2026-11-01' + make_interval(secs => g * 2592000.0 / {total})
             FROM (SELECT g, ((g * 2654435761) % 1000003) / 1000003.0 AS h
                   FROM generate_series({from}::int8, {to}::int8) g) x",
            rooms = args.streams,
            users = args.users,
            nja = JAPANESE.len(),
            nen = ENGLISH.len(),
            total = args.messages,
            from = done + 1,
            to = done + n,
        ))
        .await?;
        done += n;
        eprintln!("{done} lines in {:.0} s", started.elapsed().as_secs_f64());
    }
    let mut conn = pool.acquire().await?;
    sqlx::query("SET maintenance_work_mem = '1GB'")
        .execute(&mut *conn)
        .await?;
    for (name, def) in &indexes {
        let one = Instant::now();
        sqlx::query(def).execute(&mut *conn).await?;
        eprintln!("index {name} in {:.0} s", one.elapsed().as_secs_f64());
    }
    sqlx::query(&format!("VACUUM ANALYZE {schema}.chat_chatmessage"))
        .execute(&mut *conn)
        .await?;
    eprintln!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `items` as a SQL text array literal (constants of this file only).
fn sql_array(items: &[&str]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    format!("(ARRAY[{}])", quoted.join(", "))
}

fn quantiles(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.99), at(1.0))
}
