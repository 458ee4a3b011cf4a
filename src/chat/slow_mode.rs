//! What a check across nodes said about slow mode for one new line, handed
//! with the line to its room, which makes the final call: it alone knows
//! resends, which slow mode never refuses.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlowVerdict {
    /// Not checked across nodes (off, single node, Redis down, a
    /// moderator): the room's own timing decides.
    #[default]
    Unchecked,
    /// Checked across nodes and admitted: the room records the post but
    /// does not refuse it (its own timing may be a few ms off Redis's).
    Cleared,
    /// Another line of the user is within the window, on some node.
    Wait(Duration),
}
