//! Graceful shutdown: sockets first, then rooms, then writers.
//!
//! Socket tasks are spawned on axum's upgrade path, outside hyper's connection
//! tracking, so graceful HTTP shutdown alone would not wait for them; they and
//! the batch writers are counted in trackers of their own.

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Shared by everything that must stop cleanly; cheap to clone.
#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    sockets: TaskTracker,
    writers: TaskTracker,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Tells every socket to close with 1001.
    pub fn begin(&self) {
        self.token.cancel();
    }

    /// Resolves when shutdown has begun.
    pub async fn begun(&self) {
        self.token.cancelled().await
    }

    pub fn is_begun(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Tracker for WebSocket connection tasks.
    pub fn sockets(&self) -> &TaskTracker {
        &self.sockets
    }

    /// Tracker for writers that must commit their queue before exit.
    pub fn writers(&self) -> &TaskTracker {
        &self.writers
    }

    /// Waits for every socket task to end.
    pub async fn sockets_closed(&self) {
        self.sockets.close();
        self.sockets.wait().await;
    }

    /// Waits for every writer to commit what it holds and stop.
    pub async fn writers_flushed(&self) {
        self.writers.close();
        self.writers.wait().await;
    }
}
