//! Idle: open `--viewers` sockets and hold them for `--duration`, sending
//! nothing. What it measures is the connecting (handshakes per second, their
//! server and Postgres CPU) and the server's memory per held socket.

use crate::client::Plan;

/// Every client only listens.
pub fn plan() -> Plan {
    Plan::Listen
}
