//! Room events as the frames clients receive.

use super::ServerFrame;
use crate::chat::RoomEvent;

/// The client frames of an event, as JSON (bans make none: they close sockets).
pub fn render(event: &RoomEvent) -> Vec<String> {
    match event {
        RoomEvent::Chat(message) => vec![ServerFrame::Chat {
            message,
            history: false,
        }
        .to_json()],
        RoomEvent::Reaction(reaction) => vec![ServerFrame::Reaction(reaction).to_json()],
        RoomEvent::ReactionBurst { counts, window_ms } => {
            let counts = counts.iter().copied().collect();
            vec![ServerFrame::ReactionBurst {
                counts: &counts,
                window_ms: *window_ms,
            }
            .to_json()]
        }
        RoomEvent::Pin { message } => vec![ServerFrame::Pin {
            id: message.id.unwrap_or_default(),
            message,
        }
        .to_json()],
        RoomEvent::Unpin { id } => vec![ServerFrame::Unpin { id: *id }.to_json()],
        RoomEvent::Delete { ids } => ids
            .iter()
            .map(|id| ServerFrame::Delete { id: *id }.to_json())
            .collect(),
        RoomEvent::Edit(edit) => vec![ServerFrame::Edited {
            id: edit.id,
            message: &edit.message,
            edited_at: &edit.edited_at,
            mentions: &edit.mentions,
        }
        .to_json()],
        RoomEvent::Clear { username } => vec![ServerFrame::Clear {
            username: username.as_deref(),
        }
        .to_json()],
        RoomEvent::Settings { slow_mode_seconds } => vec![ServerFrame::Settings {
            slow_mode_seconds: *slow_mode_seconds,
        }
        .to_json()],
        // Not for everyone: the actor sends these to the sockets concerned.
        RoomEvent::Ban { .. }
        | RoomEvent::Unban { .. }
        | RoomEvent::Held { .. }
        | RoomEvent::Denied { .. } => Vec::new(),
    }
}

/// Adds `"offset"` and `"epoch"` (a logged event's place in the room's log,
/// what a client resumes from) to a frame's JSON object.
pub fn with_seq(json: &str, offset: u64, epoch: &str) -> String {
    // The epoch is our own hex name, safe inside a JSON string as is.
    format!(
        "{{\"offset\":{offset},\"epoch\":\"{epoch}\",{}",
        json.strip_prefix('{').unwrap_or(json)
    )
}

/// Adds the `"client_id"` of the chat frame a reply answers (an error that
/// refused it), so the sender knows which of its lines was refused.
pub fn with_client_id(json: &str, client_id: Option<&str>) -> String {
    match client_id {
        // Quoted by serde although valid ids need no escaping: the frame
        // stays valid JSON whatever reaches here.
        Some(id) => format!(
            "{{\"client_id\":{},{}",
            serde_json::to_string(id).unwrap_or_else(|_| "null".into()),
            json.strip_prefix('{').unwrap_or(json)
        ),
        None => json.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn parse(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_delete_of_several_lines_is_one_frame_each() {
        let frames = render(&RoomEvent::Delete { ids: vec![4, 9] });
        let frames: Vec<Value> = frames.iter().map(|f| parse(f)).collect();
        assert_eq!(
            frames,
            vec![
                json!({"type":"chat.delete","id":4}),
                json!({"type":"chat.delete","id":9})
            ]
        );
    }

    #[test]
    fn bans_are_not_shown_and_bursts_count_per_stamp() {
        assert!(render(&RoomEvent::Ban {
            user_id: 1,
            until: None,
            reason: None
        })
        .is_empty());
        assert!(render(&RoomEvent::Unban { user_id: 1 }).is_empty());
        let burst = render(&RoomEvent::ReactionBurst {
            counts: vec![(2, 5), (1, 3)],
            window_ms: 150,
        });
        assert_eq!(
            parse(&burst[0]),
            json!({"type":"reaction.burst","counts":{"1":3,"2":5},"window_ms":150})
        );
        assert_eq!(
            parse(&render(&RoomEvent::Clear { username: None })[0]),
            json!({"type":"chat.clear"})
        );
    }

    #[test]
    fn a_refusal_names_the_line_it_refused() {
        let json = r#"{"type":"error","code":"slow_mode"}"#;
        assert_eq!(with_client_id(json, None), json);
        assert_eq!(
            parse(&with_client_id(json, Some("c-1"))),
            json!({"client_id":"c-1","type":"error","code":"slow_mode"})
        );
        assert_eq!(
            parse(&with_client_id(json, Some("a\"b")))["client_id"],
            "a\"b"
        );
    }

    #[test]
    fn the_log_position_leads_the_frame() {
        let json = with_seq(r#"{"type":"chat.unpin","id":3}"#, 17, "ab12");
        assert_eq!(
            json,
            r#"{"offset":17,"epoch":"ab12","type":"chat.unpin","id":3}"#
        );
        assert_eq!(
            parse(&json),
            json!({"offset":17,"epoch":"ab12","type":"chat.unpin","id":3})
        );
    }
}
