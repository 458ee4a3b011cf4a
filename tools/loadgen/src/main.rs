//! `stampede-loadgen`: drives a running Stampede over real WebSockets on
//! loopback and reports throughput, latency, loss and server cost.
//!
//! Prepare users and cookies with `stampede bench-setup`, start the server,
//! then e.g. `stampede-loadgen reactions --cookies cookies.txt --stream 2
//! --viewers 1000 --rate 5 --duration 30 --server-pid $(pgrep -f 'stampede serve')`.
//! Every run is bounded in connections and duration and only targets loopback.
//!
//! - [`cli`]: subcommands and flags.
//! - [`run`]: one socket scenario, from the first handshake to the report.
//! - [`client`]: one WebSocket client: connect, send at a rate, read frames.
//! - [`fanout`], [`reactions`], [`idle`]: what each socket scenario sends and counts.
//! - [`login_flood`]: the HTTP login scenario, which has its own driver.
//! - [`notify`]: notification sockets over several nodes (broadcast, mark-read).
//! - [`latency`], [`report`], [`server`]: percentiles, the summary, and what
//!   is read of the server under test.

mod cli;
mod client;
mod fanout;
mod idle;
mod latency;
mod login_flood;
mod notify;
mod reactions;
mod report;
mod run;
mod server;

use std::sync::{Mutex, MutexGuard};

use clap::Parser;

use cli::{Args, Scenario};
use run::Load;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().scenario {
        Scenario::LoginFlood(flood) => login_flood::run(flood).await,
        Scenario::Notify(args) => notify::run(args).await,
        Scenario::Reactions { common, rate } => run::run(common, Load::Reactions { rate }).await,
        Scenario::Fanout {
            common,
            senders,
            rate,
            mention_prefix,
            mention_users,
        } => {
            if let Some(prefix) = mention_prefix {
                let _ = fanout::MENTIONS.set((prefix, mention_users.max(1)));
            }
            run::run(common, Load::Fanout { senders, rate }).await
        }
        Scenario::Idle { common } => run::run(common, Load::Idle).await,
    }
}

/// A poisoned lock still holds usable counts: a panicking client loses only
/// its own.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
