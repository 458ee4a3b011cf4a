//! Reactions: every viewer sends `--rate` stamps per second; the room sends
//! them back per tick, one event each or as a `reaction.burst` of counts.

use rand::Rng;
use serde_json::json;

use crate::client::Plan;

/// Every client reacts.
pub fn plan(rate: f64) -> Plan {
    Plan::React { rate }
}

/// A reaction with one of the six default stamps.
pub fn frame(rng: &mut impl Rng) -> String {
    json!({"type": "reaction", "stamp_id": rng.random_range(1..=6)}).to_string()
}
