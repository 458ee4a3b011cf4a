//! After a chat line is stored: its mentions and its reply notify the
//! users concerned (`mention`, `reply`). Queued with the notifier, which
//! never waits, skips the author and anyone who blocked them.

use crate::chat::ChatMessage;
use crate::moderation::sanitize::unescape;
use crate::notifications::{Kind, NewNotification, NotificationType, Notifier, Title};
use crate::store::messages::NewMessage;
use crate::store::stream_lifecycle::watch_link;
use crate::tenant::SchemaName;

/// Notifies whom stored line `line` (sent as `sent`) mentions or answers.
/// The answered line's author gets the reply only, not also the mention.
pub fn notify(
    notifier: &Notifier,
    schema: &SchemaName,
    stream_id: i32,
    sent: &NewMessage,
    line: &ChatMessage,
) {
    let Some(sender) = sent.user_id else {
        return;
    };
    let replied = sent.reply_to.as_ref().and_then(|r| r.user_id);
    let mentioned: Vec<i32> = sent
        .mentions
        .iter()
        .map(|m| m.user_id)
        .filter(|id| Some(*id) != replied)
        .collect();
    if mentioned.is_empty() && replied.is_none() {
        return;
    }
    let excerpt = unescape(&line.message);
    let link = watch_link(stream_id);
    let note = |kind: Kind, title: Title| {
        NewNotification::worded(kind, NotificationType::Info, title, &excerpt, Some(&link))
            .map(|n| n.sent_by(sender))
    };
    let who = &sent.username;
    // A full queue is counted and logged by the notifier; chat goes on.
    if !mentioned.is_empty() {
        if let Ok(n) = note(Kind::Mention, Title::Mention { who }) {
            let _ = notifier.notify_in(schema, &mentioned, n);
        }
    }
    if let Some(author) = replied {
        if let Ok(n) = note(Kind::Reply, Title::Reply { who }) {
            let _ = notifier.notify_in(schema, &[author], n);
        }
    }
}
