//! `stampede-analytics-bench`: writes N reactions for one stream through the
//! reaction writer's insert (raw rows plus rollups, in batches), spread over
//! a three-hour stream, then times the queries behind every analytics
//! endpoint. Results go in docs/benchmarks.md.
//!
//! `DATABASE_URL=… stampede-analytics-bench --tenant benchan --reactions 10000000`

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use stampede::auth::Role;
use stampede::store::reactions::{insert_batch, NewReaction};
use stampede::store::{analytics, streams, tenants, users};
use stampede::tenant::SchemaName;

#[derive(Parser)]
struct Args {
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Tenant schema to create (or reuse) for the benchmark.
    #[arg(long, default_value = "benchan")]
    tenant: String,
    #[arg(long, default_value_t = 10_000_000)]
    reactions: u64,
    #[arg(long, default_value_t = 1000)]
    users: u32,
    /// Rows per INSERT, like the writer's largest batch.
    #[arg(long, default_value_t = 5000)]
    batch: usize,
    /// Concurrent writers (rooms on different nodes write concurrently too).
    #[arg(long, default_value_t = 4)]
    writers: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = stampede::store::connect(&args.database_url, (args.writers + 2) as u32).await?;
    stampede::cli::migrate_all(&pool).await?;
    let schema = SchemaName::parse(&args.tenant)?;
    let tenant = match tenants::get_by_schema(&pool, &schema).await {
        Ok(t) => t,
        Err(_) => {
            tenants::create(
                &pool,
                &schema,
                "Analytics bench",
                &format!("{}.localhost", args.tenant),
            )
            .await?
        }
    };
    let hash = stampede::auth::password::hash("bench".into()).await?;
    let mut ids = Vec::new();
    for i in 0..args.users {
        let name = format!("an{i}");
        let id = match users::create(&pool, &tenant.schema, &name, &hash, Role::Viewer).await {
            Ok(u) => u.id,
            Err(_) => users::id_by_name(&pool, &tenant.schema, &name).await?,
        };
        ids.push(id);
    }
    let stream = streams::create(&pool, &tenant.schema, "Three-hour final", None)
        .await?
        .id;
    let start = time::OffsetDateTime::now_utc() - time::Duration::hours(3);
    let start = time::PrimitiveDateTime::new(start.date(), start.time());
    let span_ms: i64 = 3 * 3600 * 1000;

    eprintln!(
        "writing {} reactions for stream {stream} in {} batches…",
        args.reactions,
        args.reactions / args.batch as u64
    );
    let t0 = Instant::now();
    let per_writer = args.reactions / args.writers as u64;
    let mut tasks = Vec::new();
    for w in 0..args.writers {
        let (pool, schema, ids) = (pool.clone(), tenant.schema.clone(), ids.clone());
        let batch = args.batch;
        let (first, last) = (w as u64 * per_writer, (w as u64 + 1) * per_writer);
        tasks.push(tokio::spawn(async move {
            let mut rows = Vec::with_capacity(batch);
            let mut i = first;
            while i < last {
                rows.clear();
                for j in i..(i + batch as u64).min(last) {
                    // Reactions in time order, with a bursty per-stamp mix.
                    let offset = (j as i64 * span_ms) / (last as i64).max(1);
                    rows.push(NewReaction {
                        stream_id: stream,
                        user_id: ids[(j as usize * 7919) % ids.len()],
                        stamp_id: 1 + ((j * j) % 6) as i32,
                        created_at: start + time::Duration::milliseconds(offset),
                    });
                }
                insert_batch(&pool, &schema, &rows).await?;
                i += batch as u64;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let write_secs = t0.elapsed().as_secs_f64();
    println!(
        "wrote {} reactions in {:.1} s ({:.0} rows/s, {} writers, batches of {})",
        args.reactions,
        write_secs,
        args.reactions as f64 / write_secs,
        args.writers,
        args.batch
    );
    let raw: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {}.streaming_streamreaction WHERE stream_id = $1",
        tenant.schema
    ))
    .bind(stream)
    .fetch_one(&pool)
    .await?;
    let rolled: i64 = sqlx::query_scalar(&format!(
        "SELECT COALESCE(sum(count), 0)::int8 FROM {}.streaming_reactionminute WHERE stream_id = $1",
        tenant.schema
    ))
    .bind(stream)
    .fetch_one(&pool)
    .await?;
    println!("raw rows {raw}, rollup total {rolled}");
    anyhow::ensure!(raw == rolled, "rollups disagree with raw rows");

    let end = start + time::Duration::hours(3) + time::Duration::minutes(1);
    let schema = &tenant.schema;
    println!(
        "{:<44} {:>9} {:>9}",
        "query (behind endpoint)", "median", "max"
    );
    report("summary (/summary)", || async {
        analytics::summary(&pool, schema, stream).await.map(|_| ())
    })
    .await?;
    for (label, bucket) in [
        ("series 1m (/reactions?bucket=1m)", "1 minute"),
        ("series 5m", "5 minutes"),
        ("series 1h", "1 hour"),
    ] {
        report(label, || async {
            analytics::reaction_series(&pool, schema, stream, start, end, bucket)
                .await
                .map(|_| ())
        })
        .await?;
    }
    report("tenant totals (/api/analytics/reactions)", || async {
        analytics::stamp_totals(&pool, schema, None, Some((start, end))).await?;
        analytics::stream_totals(&pool, schema, start, end)
            .await
            .map(|_| ())
    })
    .await?;
    Ok(())
}

async fn report<F, Fut>(label: &str, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), stampede::store::StoreError>>,
{
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        f().await.context(label.to_owned())?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{label:<44} {:>7.1}ms {:>7.1}ms",
        times[times.len() / 2].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    Ok(())
}
