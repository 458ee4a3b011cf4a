//! A Redis server of the test's own, to stage outages of the channel layer.

use std::process::{Child, Command, Stdio};

use super::{eventually, free_port, EVENT_TIMEOUT};

/// A Redis server on a free port, killed on drop.
pub struct TestRedis {
    pub port: u16,
    child: Option<Child>,
}

impl TestRedis {
    pub async fn start() -> Self {
        let mut redis = TestRedis {
            port: free_port(),
            child: None,
        };
        redis.launch().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) {
        let child = Command::new(
            std::env::var("STAMPEDE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into()),
        )
        .args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server (install redis-server, or run scripts/test)");
        self.child = Some(child);
        // Wait until it answers PING.
        let client = redis::Client::open(self.url()).expect("redis url");
        eventually(EVENT_TIMEOUT, "redis-server did not start", || async {
            let mut c = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING").query_async::<String>(&mut c).await.ok()
        })
        .await;
    }

    /// Kills the server (an outage).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await;
    }

    /// Empties it (Redis losing its data).
    pub async fn flush_all(&self) {
        let mut conn = redis::Client::open(self.url())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to redis");
        let _: () = redis::cmd("FLUSHALL")
            .query_async(&mut conn)
            .await
            .expect("FLUSHALL");
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
