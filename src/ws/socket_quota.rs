//! Open chat sockets per user per tenant on this node. Each socket costs
//! memory and a task; without a cap one account could open thousands.

use crate::quota::{Quota, Slot};

/// Counts per (tenant, user).
pub type SocketQuota = Quota<(i32, i32)>;
/// One counted socket.
pub type SocketSlot = Slot<(i32, i32)>;
