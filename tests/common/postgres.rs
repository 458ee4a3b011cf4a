//! A Postgres cluster of the test's own, to stage a database outage.

use std::process::Command;

use super::db::TestDb;
use super::free_port;

/// A Postgres cluster of the test's own (initdb + pg_ctl from the Debian
/// package), on a free port, so an outage can be staged without touching
/// the machine's own server. Removed on drop.
pub struct PrivatePostgres {
    pub port: u16,
    dir: String,
    bin: std::path::PathBuf,
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("postgresql server package (scripts/test installs it)")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists())
            .max()
            .expect("a pg_ctl under /usr/lib/postgresql");
        let port = free_port();
        let dir = format!("/tmp/stampede-pg-{}", uuid::Uuid::new_v4().simple());
        let pg = PrivatePostgres { port, dir, bin };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.dir,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.up();
        pg
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            self.port, self.dir
        );
        let log = format!("{}/server.log", self.dir);
        self.run(
            "pg_ctl",
            &["-D", &self.dir, "-l", &log, "-w", "-o", &options, "start"],
        );
    }

    /// Stops the server (an outage): sessions are terminated.
    pub fn down(&self) {
        self.run("pg_ctl", &["-D", &self.dir, "-m", "fast", "-w", "stop"]);
    }

    /// A command for a server binary, run as the postgres user when we are
    /// root (initdb and postgres refuse to run as root).
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if unsafe { libc::geteuid() } == 0 {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        }
    }

    /// Runs a server binary; it must succeed.
    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.dir, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PrivatePostgres {
    /// A migrated database `name` on this cluster. Its `TestDb` drop only
    /// tries to drop a database of that name on the shared cluster, where
    /// there is none; the private cluster goes with `self`.
    pub async fn database(&self, name: &str) -> TestDb {
        TestDb::create_on(&self.url("postgres"), name, self.url(name)).await
    }
}
