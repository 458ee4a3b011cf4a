//! After a broker outage: the devices that may have missed events published
//! on other nodes meanwhile reconnect and sync.

use tokio::time::Instant;

use super::{lock, Held, Hub, LAYER_CHECK};
use crate::channel_layer::LayerStatus;
use crate::room::Close;

impl Hub {
    /// Events published on other nodes while the broker was unreachable
    /// never arrive here, so when it is back every device that may have
    /// missed some reconnects (4408) and its sync, read from the database,
    /// brings them: those registered before the last moment the layer was
    /// seen down, or while it was down. Devices that registered after it
    /// came back missed nothing and stay.
    pub(super) async fn resync_after_outages(&self) {
        let mut tick = tokio::time::interval(LAYER_CHECK);
        let mut last_down: Option<Instant> = None;
        loop {
            tick.tick().await;
            match self.layer.status() {
                LayerStatus::Degraded => last_down = Some(Instant::now()),
                LayerStatus::Connected => {
                    if let Some(down) = last_down.take() {
                        let closed = self.close_held(|h| h.since <= down || !h.connected);
                        tracing::info!(
                            devices = closed,
                            "channel layer back: notification devices resync"
                        );
                    }
                }
                LayerStatus::Local => {}
            }
        }
    }

    /// Closes the devices for which `which` holds (4408); returns how many.
    fn close_held(&self, which: impl Fn(&Held) -> bool) -> usize {
        let inner = lock(&self.inner);
        let mut closed = 0;
        for held in inner
            .tenants
            .values()
            .flat_map(|t| t.users.values())
            .flatten()
        {
            if which(held) {
                held.device.close(Close::lagging());
                closed += 1;
            }
        }
        closed
    }
}
