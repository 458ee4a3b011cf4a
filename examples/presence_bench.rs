//! Times one node's presence round against a Redis, with synthetic rooms:
//!
//! ```text
//! cargo run --release --example presence_bench -- redis://127.0.0.1:6379 1000 30 2
//! ```
//!
//! Arguments: Redis URL, rooms, viewers per room, nodes. Prints one JSON line
//! (see `stampede::presence::BenchReport`). Use a scratch Redis: it writes
//! keys under `stampede:{presence_bench}:`, which expire within seconds.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| {
        args.get(i)
            .map(|a| a.parse::<usize>().map_err(|_| format!("not a number: {a}")))
            .unwrap_or(Ok(default))
    };
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let parsed = (number(1, 1000), number(2, 30), number(3, 2));
    let (rooms, viewers, nodes) = match parsed {
        (Ok(r), Ok(v), Ok(n)) => (r, v, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("usage: presence_bench [REDIS_URL] [ROOMS] [VIEWERS] [NODES]: {e}");
            return ExitCode::from(2);
        }
    };
    match stampede::presence::bench(&url, rooms, viewers, nodes).await {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("presence bench: {err}");
            ExitCode::FAILURE
        }
    }
}
