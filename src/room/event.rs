//! Publishing room events: logged events get an offset in the room's log
//! (for resumes), the rest are fire-and-forget.

use crate::channel_layer::ChannelLayer;
use crate::chat::RoomEvent;

/// Publishes `event` to `group`, logged or not as the event requires.
pub fn publish(layer: &dyn ChannelLayer, group: &str, event: &RoomEvent) {
    if event.is_logged() {
        layer.publish_logged(group, event.encode());
    } else {
        layer.publish(group, event.encode());
    }
}
