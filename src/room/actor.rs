//! The room actor. It never does socket I/O and never awaits a peer: it
//! appends broadcasts to the room's [`Fanout`] ring, which every socket's
//! writer reads at its own pace, and puts a socket's own frames in its
//! bounded [`Outbox`](super::outbox::Outbox). A socket that falls more than
//! the ring behind is closed with [`CLOSE_LAGGING`](super::CLOSE_LAGGING) instead
//! of stalling the room.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::time::{sleep_until, Instant};

use super::event::RoomEvent;
use super::fanout::{Cursor, Fanout};
use super::handle::{Command, RoomStats};
use super::reaction_writer;
use super::reactions::ReactionWindow;
use super::redaction::{self, Mark};
use super::registry::RoomDeps;
use super::writer::{self, Pending, WriterTarget};
use super::{Attach, Close, ConnId, Resume, RoomKey, CLOSE_BANNED};
use crate::channel_layer::{Delivery as LayerDelivery, RecvError, Replay, Seq, Subscription};
use crate::chat::{ChatMessage, MessageType, Reaction};
use crate::store::messages::{self, NewMessage};
use crate::store::moderation as mod_store;
use crate::store::reactions::NewReaction;
use crate::store::stamps::Stamp;
use crate::tenant::SchemaName;
use crate::ws::protocol::{banned_json, error_json, ErrorCode, ServerFrame};

/// A replayable message: its id and its `"history": true` frame.
struct HistoryEntry {
    id: i64,
    username: String,
    /// Moderation and system notices survive "clear chat".
    is_notice: bool,
    frame: Utf8Bytes,
}

/// Logged frames kept for reconnecting sockets.
const RECENT_CAPACITY: usize = 512;

/// A user counts as a chatter for this long after their last message.
const CHATTER_WINDOW: Duration = Duration::from_secs(300);

/// Longest wait for the channel layer to confirm a room's subscriptions.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(2);

/// Everything the actor needs to start.
pub(crate) struct RoomSpec {
    pub key: RoomKey,
    pub actor_id: u64,
    pub schema: SchemaName,
    pub room_id: i32,
}

pub(crate) struct RoomActor {
    spec: RoomSpec,
    deps: Arc<RoomDeps>,
    group: String,
    rx: mpsc::Receiver<Command>,
    writer_tx: mpsc::Sender<Pending>,
    reaction_tx: mpsc::Sender<NewReaction>,
    /// Reactions of the current tick and when the tick ends.
    reactions: ReactionWindow,
    reaction_deadline: Instant,
    subs: HashMap<ConnId, Attach>,
    /// Broadcast frames, read by every socket's writer.
    fanout: Arc<Fanout>,
    /// Open sockets per user, so join/leave are announced once per user.
    sockets_per_user: HashMap<i32, usize>,
    history: VecDeque<HistoryEntry>,
    /// The pinned message, replayed to joiners right after history.
    pinned: Option<ChatMessage>,
    /// Banned users and when their ban ends (`None` = never), as
    /// `(RFC 3339 for clients, instant for checks)`.
    banned: HashMap<i32, Option<(String, OffsetDateTime)>>,
    slow_mode: Duration,
    /// When each user last had a message accepted, for slow mode.
    last_message: HashMap<i32, Instant>,
    /// When each user last chatted, for the `chatters` count.
    chatted: HashMap<i32, Instant>,
    stats: Arc<RoomStats>,
    /// The presence last sent to sockets, so only changes are sent.
    announced: Option<(u64, u64)>,
    /// The last logged frames broadcast, to close the gap between a
    /// reconnecting socket's replay and its join.
    recent: VecDeque<(Seq, Utf8Bytes, Mark)>,
    last_seq: Option<Seq>,
    next_conn: u64,
}

impl RoomActor {
    /// Spawns the actor and its writer; returns at once.
    pub(crate) fn spawn(
        spec: RoomSpec,
        deps: Arc<RoomDeps>,
        rx: mpsc::Receiver<Command>,
        stats: Arc<RoomStats>,
    ) {
        let group = crate::channel_layer::room_group(spec.schema.as_str(), spec.key.stream_id);
        // Subscribe before loading history so nothing published in between is missed;
        // duplicates are dropped by id.
        let subscription = deps.layer.subscribe(&group);
        let tenant_subscription = deps
            .layer
            .subscribe(&crate::channel_layer::tenant_group(spec.schema.as_str()));
        let (writer_tx, writer_rx) = mpsc::channel(writer::QUEUE);
        let target = WriterTarget {
            committer: deps.committer.clone(),
            schema: spec.schema.clone(),
            room_id: spec.room_id,
            layer: deps.layer.clone(),
            group: group.clone(),
        };
        deps.shutdown
            .writers()
            .spawn(writer::run(target, writer_rx));
        let (reaction_tx, reaction_rx) = mpsc::channel(reaction_writer::QUEUE);
        deps.shutdown.writers().spawn(reaction_writer::run(
            deps.reaction_committer.clone(),
            spec.schema.clone(),
            deps.config.reaction_flush(),
            reaction_rx,
        ));
        let fanout = Fanout::new(deps.config.outbound_queue);
        let actor = RoomActor {
            spec,
            deps,
            group,
            rx,
            writer_tx,
            reaction_tx,
            reactions: ReactionWindow::default(),
            reaction_deadline: Instant::now(),
            subs: HashMap::new(),
            fanout,
            sockets_per_user: HashMap::new(),
            history: VecDeque::new(),
            pinned: None,
            banned: HashMap::new(),
            slow_mode: Duration::ZERO,
            last_message: HashMap::new(),
            chatted: HashMap::new(),
            stats,
            announced: None,
            recent: VecDeque::new(),
            last_seq: None,
            next_conn: 0,
        };
        tokio::spawn(actor.run(subscription, tenant_subscription));
    }

    async fn run(mut self, mut subscription: Subscription, mut tenant_subscription: Subscription) {
        metrics::gauge!("stampede_rooms").increment(1.0);
        self.serve(&mut subscription, &mut tenant_subscription)
            .await;
        metrics::gauge!("stampede_rooms").decrement(1.0);
    }

    async fn serve(
        &mut self,
        subscription: &mut Subscription,
        tenant_subscription: &mut Subscription,
    ) {
        // Once the broker confirms, everything committed from now on reaches
        // this node; what was committed before comes from the database.
        for sub in [&mut *subscription, &mut *tenant_subscription] {
            if !sub.ready(SUBSCRIBE_WAIT).await {
                tracing::warn!(
                    stream_id = self.spec.key.stream_id,
                    "starting room without a confirmed subscription"
                );
            }
        }
        self.load_state().await;
        let idle = self.deps.config.room_idle();
        let mut idle_deadline = Instant::now() + idle;
        // The room, not each socket, watches for shutdown: one waiter per
        // room instead of one shared-lock poll per socket wake-up.
        let shutdown = self.deps.shutdown.clone();
        let stopping = shutdown.begun();
        tokio::pin!(stopping);
        let mut closing = false;
        loop {
            tokio::select! {
                _ = &mut stopping, if !closing => {
                    closing = true;
                    for attach in self.subs.values() {
                        attach.outbox.close(Close::going_away());
                    }
                }
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => {
                        self.handle(cmd);
                        if self.subs.is_empty() {
                            idle_deadline = Instant::now() + idle;
                        }
                    }
                    // Every handle is gone: the registry dropped us at shutdown.
                    None => break,
                },
                event = subscription.recv() => match event {
                    Ok(delivery) => self.on_event(&delivery),
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(stream_id = self.spec.key.stream_id, missed = n, "room lagged behind its group");
                        // These sockets missed events; make them reconnect rather than show a gap,
                        // and rebuild the replay ring, which has the same gap.
                        let conns: Vec<ConnId> = self.subs.keys().copied().collect();
                        for conn in conns {
                            self.kick(conn, Close::lagging());
                        }
                        self.history.clear();
                        self.load_history().await;
                    }
                    Err(RecvError::Closed) => break,
                },
                event = tenant_subscription.recv() => match event {
                    Ok(delivery) => self.on_event(&delivery),
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "room lagged behind its tenant group");
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = sleep_until(self.reaction_deadline), if !self.reactions.is_empty() => {
                    self.publish_reactions();
                }
                _ = sleep_until(idle_deadline), if self.subs.is_empty() && self.reactions.is_empty() => {
                    if self.deps.remove_if_current(self.spec.key, self.spec.actor_id) {
                        break;
                    }
                    idle_deadline = Instant::now() + idle;
                }
            }
            self.update_stats();
        }
        // Whatever the last tick collected is still announced.
        self.publish_reactions();
        tracing::debug!(stream_id = self.spec.key.stream_id, "room stopped");
    }

    /// Loads what the room needs besides history: pin, bans, slow mode.
    async fn load_state(&mut self) {
        self.load_history().await;
        let (pool, schema) = (&self.deps.pool, &self.spec.schema);
        match mod_store::pinned(pool, schema, self.spec.room_id).await {
            Ok(pin) => self.pinned = pin,
            Err(err) => tracing::error!(error = %err, "loading pin failed"),
        }
        match mod_store::banned_users(pool, schema, self.spec.key.stream_id).await {
            Ok(list) => {
                for (user_id, until) in list {
                    let until = until.map(|t| (crate::store::format_timestamp(t), t.assume_utc()));
                    self.banned.insert(user_id, until);
                }
            }
            Err(err) => tracing::error!(error = %err, "loading bans failed"),
        }
        match mod_store::slow_mode(pool, schema, self.spec.room_id).await {
            Ok(secs) => self.slow_mode = Duration::from_secs(secs.max(0) as u64),
            Err(err) => tracing::error!(error = %err, "loading slow mode failed"),
        }
    }

    async fn load_history(&mut self) {
        let limit = self.deps.config.history_size as i64;
        match messages::recent(&self.deps.pool, &self.spec.schema, self.spec.room_id, limit).await {
            Ok(list) => {
                for message in list {
                    self.remember(&message);
                }
            }
            Err(err) => {
                // The room still works; joiners just get no replay until new messages arrive.
                tracing::error!(room_id = self.spec.room_id, error = %err, "loading history failed");
            }
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Join { attach, respond_to } => self.join(attach, respond_to),
            Command::Leave { conn } => self.detach(conn),
            Command::Chat { conn, text } => self.chat(conn, text),
            Command::React { conn, stamp } => self.react(conn, &stamp),
            Command::Presence { viewers, chatters } => self.presence(viewers, chatters),
        }
    }

    fn join(&mut self, attach: Attach, respond_to: tokio::sync::oneshot::Sender<(ConnId, Cursor)>) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        // From here on the socket sees every broadcast; what came before
        // reaches it through its own queue below (history or replay).
        let cursor = self.fanout.cursor(attach.outbox.clone());
        if self.deps.shutdown.is_begun() {
            // Admitted just before shutdown began; the room closed the others already.
            attach.outbox.close(Close::going_away());
            let _ = respond_to.send((conn, cursor));
            return;
        }
        if let Some(until) = self.ban_of(attach.member.user_id) {
            // Banned between the handshake's check and now.
            attach.outbox.close(banned_close(until.as_deref()));
            let _ = respond_to.send((conn, cursor));
            return;
        }
        let recovered = attach.resume.as_ref().map(|resume| self.recover(resume));
        if let Some(recovered) = &recovered {
            let ok = recovered.is_some();
            let fits = recovered
                .iter()
                .flatten()
                .all(|frame| attach.outbox.send(frame.clone()));
            if !fits {
                // More missed than a socket may have queued: a partial replay
                // followed by live events would be a silent gap.
                attach.outbox.close(Close::lagging());
                let _ = respond_to.send((conn, cursor));
                return;
            }
            attach
                .outbox
                .send(json_frame(&ServerFrame::Recovered { recovered: ok }));
        }
        let fresh = !matches!(recovered, Some(Some(_)));
        // The queue is larger than the history (checked in config), so this fits.
        for entry in self.history.iter().filter(|_| fresh) {
            attach.outbox.send(entry.frame.clone());
        }
        if let Some(pin) = self.pinned.as_ref().filter(|_| fresh) {
            attach.outbox.send(pin_frame(pin));
        }
        if fresh && !self.slow_mode.is_zero() {
            let frame = ServerFrame::Settings {
                slow_mode_seconds: self.slow_mode.as_secs() as i32,
            };
            attach.outbox.send(json_frame(&frame));
        }
        if respond_to.send((conn, cursor)).is_err() {
            // The socket gave up while waiting; it was never announced.
            return;
        }
        let user_id = attach.member.user_id;
        let username = attach.member.username.clone();
        self.subs.insert(conn, attach);
        let count = self.sockets_per_user.entry(user_id).or_insert(0);
        *count += 1;
        if *count == 1 {
            self.announce(
                MessageType::Join,
                &username,
                format!("{username} joined the chat"),
            );
        }
    }

    /// Removes a socket; announces `leave` when it was the user's last one.
    fn detach(&mut self, conn: ConnId) {
        let Some(attach) = self.subs.remove(&conn) else {
            return;
        };
        let user_id = attach.member.user_id;
        let last = match self.sockets_per_user.get_mut(&user_id) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            _ => {
                self.sockets_per_user.remove(&user_id);
                true
            }
        };
        if last {
            let name = &attach.member.username;
            self.announce(MessageType::Leave, name, format!("{name} left the chat"));
        }
    }

    fn kick(&mut self, conn: ConnId, close: Close) {
        if let Some(attach) = self.subs.get(&conn) {
            attach.outbox.close(close);
        }
        self.detach(conn);
    }

    fn chat(&mut self, conn: ConnId, text: String) {
        let Some(attach) = self.subs.get(&conn) else {
            return;
        };
        let user_id = attach.member.user_id;
        if let Some(until) = self.ban_of(user_id) {
            attach
                .outbox
                .send(Utf8Bytes::from(banned_json(until.as_deref())));
            return;
        }
        if !attach.is_moderator && !self.slow_mode.is_zero() {
            let now = Instant::now();
            if let Some(last) = self.last_message.get(&user_id) {
                let ready = *last + self.slow_mode;
                if ready > now {
                    let ms = (ready - now).as_millis().max(1) as u64;
                    let frame = error_json(ErrorCode::SlowMode, "slow mode is on", Some(ms));
                    attach.outbox.send(Utf8Bytes::from(frame));
                    return;
                }
            }
            self.last_message.insert(user_id, now);
        }
        let pending = Pending {
            message: NewMessage {
                user_id: Some(attach.member.user_id),
                username: attach.member.username.clone(),
                content: text,
                message_type: MessageType::Message,
            },
            reply: attach.outbox.clone(),
            accepted: Instant::now(),
        };
        self.chatted
            .insert(pending.message.user_id.unwrap_or_default(), Instant::now());
        if let Err(err) = self.writer_tx.try_send(pending) {
            let (code, text) = match err {
                TrySendError::Full(_) => {
                    (ErrorCode::Overloaded, "chat is busy; try again in a moment")
                }
                TrySendError::Closed(_) => (ErrorCode::Internal, "chat storage is unavailable"),
            };
            attach
                .outbox
                .send(Utf8Bytes::from(error_json(code, text, None)));
        }
    }

    /// Accepts a reaction: queues its row, and adds it to the current tick.
    fn react(&mut self, conn: ConnId, stamp: &Stamp) {
        let Some(attach) = self.subs.get(&conn) else {
            return;
        };
        if let Some(until) = self.ban_of(attach.member.user_id) {
            attach
                .outbox
                .send(Utf8Bytes::from(banned_json(until.as_deref())));
            return;
        }
        let now = OffsetDateTime::now_utc();
        let row = NewReaction {
            stream_id: self.spec.key.stream_id,
            user_id: attach.member.user_id,
            stamp_id: stamp.id,
            created_at: time::PrimitiveDateTime::new(now.date(), now.time()),
        };
        if self.reaction_tx.try_send(row).is_err() {
            // Not accepted, so not stored and not shown: say so.
            let frame = error_json(ErrorCode::Overloaded, "too many reactions right now", None);
            attach.outbox.send(Utf8Bytes::from(frame));
            return;
        }
        metrics::counter!("stampede_reactions_received_total").increment(1);
        if self.reactions.is_empty() {
            self.reaction_deadline = Instant::now() + self.deps.config.reaction_tick();
        }
        let reaction = Reaction {
            stamp_id: stamp.id,
            stamp_name: stamp.name.clone(),
            stamp_image_url: stamp.image_url.clone(),
            username: attach.member.username.clone(),
        };
        self.reactions
            .push(reaction, self.deps.config.reaction_burst_threshold);
    }

    /// Ends the current tick: publishes its reactions, one by one or as a burst.
    fn publish_reactions(&mut self) {
        if self.reactions.is_empty() {
            return;
        }
        let config = &self.deps.config;
        for event in self
            .reactions
            .drain(config.reaction_burst_threshold, config.reaction_tick_ms)
        {
            event.publish(&*self.deps.layer, &self.group);
        }
    }

    /// Sends the room's audience to local sockets when it changed.
    fn presence(&mut self, viewers: u64, chatters: u64) {
        if self.announced == Some((viewers, chatters)) {
            return;
        }
        self.announced = Some((viewers, chatters));
        let frame = ServerFrame::Presence { viewers, chatters };
        self.broadcast(json_frame(&frame), Priority::BestEffort);
    }

    /// Refreshes the counters other tasks read.
    fn update_stats(&mut self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.chatted.retain(|_, at| at.elapsed() < CHATTER_WINDOW);
        self.stats
            .viewers
            .store(self.sockets_per_user.len(), Relaxed);
        self.stats.chatters.store(self.chatted.len(), Relaxed);
    }

    /// Publishes an unstored notice (join/leave) to the room's group, unless
    /// the room is too big for such notices to be worth a frame per viewer.
    fn announce(&self, message_type: MessageType, username: &str, message: String) {
        if self.subs.len() > self.deps.config.announce_joins_up_to {
            return;
        }
        let event = RoomEvent::Chat(ChatMessage {
            id: None,
            username: username.to_owned(),
            message,
            message_type,
            timestamp: now_rfc3339(),
        });
        event.publish(&*self.deps.layer, &self.group);
    }

    fn on_event(&mut self, delivery: &LayerDelivery) {
        let event = match RoomEvent::decode(&delivery.payload) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(error = %err, "undecodable room event dropped");
                return;
            }
        };
        if let RoomEvent::Chat(message) = &event {
            if message.id.is_some() && !self.remember(message) {
                return; // already delivered (seen while loading history)
            }
        }
        let priority = if event.is_ephemeral() {
            Priority::BestEffort
        } else {
            Priority::Required
        };
        let seq = delivery.seq.as_ref();
        // The event's meaning for redaction rides with its first frame.
        let mut mark = Some(Mark::of(&event));
        for json in self.apply(&event) {
            let frame = Utf8Bytes::from(match seq {
                Some(seq) => with_seq(&json, seq),
                None => json,
            });
            if let Some(seq) = seq {
                let mark = mark.take().unwrap_or(Mark::Other);
                self.recent.push_back((seq.clone(), frame.clone(), mark));
                while self.recent.len() > RECENT_CAPACITY {
                    self.recent.pop_front();
                }
            }
            self.broadcast(frame, priority);
        }
        if let Some(seq) = seq {
            self.last_seq = Some(seq.clone());
        }
    }

    /// Applies an event to the room's state; returns the client frames it makes.
    fn apply(&mut self, event: &RoomEvent) -> Vec<String> {
        match event {
            RoomEvent::Pin { message } => self.pinned = Some(message.clone()),
            RoomEvent::Unpin { id } => {
                if self.pinned.as_ref().and_then(|p| p.id) == Some(*id) {
                    self.pinned = None;
                }
            }
            RoomEvent::Delete { ids } => {
                self.history.retain(|e| !ids.contains(&e.id));
                let pinned = self.pinned.as_ref().and_then(|p| p.id);
                if let Some(id) = pinned.filter(|id| ids.contains(id)) {
                    self.pinned = None;
                    let mut frames = vec![ServerFrame::Unpin { id }.to_json()];
                    frames.extend(render(event));
                    return frames;
                }
            }
            RoomEvent::Clear { username } => {
                match username {
                    Some(name) => self.history.retain(|e| &e.username != name || e.is_notice),
                    None => self.history.retain(|e| e.is_notice),
                }
                if let Some(pin) = &self.pinned {
                    if username.as_ref().is_none_or(|n| n == &pin.username) {
                        self.pinned = None;
                    }
                }
            }
            RoomEvent::Ban { user_id, until } => {
                let parsed = until.as_deref().and_then(|u| {
                    OffsetDateTime::parse(u, &Rfc3339)
                        .ok()
                        .map(|t| (u.to_owned(), t))
                });
                self.banned.insert(*user_id, parsed);
                let conns: Vec<ConnId> = self
                    .subs
                    .iter()
                    .filter(|(_, a)| a.member.user_id == *user_id)
                    .map(|(c, _)| *c)
                    .collect();
                for conn in conns {
                    self.kick(conn, banned_close(until.as_deref()));
                }
            }
            RoomEvent::Unban { user_id } => {
                self.banned.remove(user_id);
            }
            RoomEvent::Settings { slow_mode_seconds } => {
                self.slow_mode = Duration::from_secs((*slow_mode_seconds).max(0) as u64);
            }
            RoomEvent::Chat(_) | RoomEvent::Reaction(_) | RoomEvent::ReactionBurst { .. } => {}
        }
        render(event)
    }

    /// Frames that bring a reconnecting socket up to date from `resume`, or
    /// `None` when the gap is not fully covered. Lines removed later in the
    /// gap are left out (their removal events are not).
    fn recover(&self, resume: &Resume) -> Option<Vec<Utf8Bytes>> {
        let Replay::Events(events) = &resume.replay else {
            return None;
        };
        let mut frames: Vec<(Utf8Bytes, Mark)> = Vec::new();
        let mut last = resume.since;
        for delivery in events {
            let seq = delivery.seq.as_ref()?;
            if *seq.epoch != *resume.epoch || seq.offset != last + 1 {
                return None;
            }
            last = seq.offset;
            let event = RoomEvent::decode(&delivery.payload).ok()?;
            let mut mark = Some(Mark::of(&event));
            for json in render(&event) {
                let frame = Utf8Bytes::from(with_seq(&json, seq));
                frames.push((frame, mark.take().unwrap_or(Mark::Other)));
            }
        }
        // Events this room broadcast after the replay was read.
        if let Some(current) = &self.last_seq {
            if current.offset > last {
                if *current.epoch != *resume.epoch {
                    return None;
                }
                let covered = self
                    .recent
                    .front()
                    .is_some_and(|(s, _, _)| s.offset <= last + 1);
                if !covered {
                    return None;
                }
                frames.extend(
                    self.recent
                        .iter()
                        .filter(|(s, _, _)| s.offset > last)
                        .map(|(_, f, m)| (f.clone(), m.clone())),
                );
            }
        }
        let removed = redaction::removed(frames.iter().map(|(_, mark)| mark));
        Some(
            frames
                .into_iter()
                .enumerate()
                .filter(|(pos, _)| !removed.contains(pos))
                .map(|(_, (frame, _))| frame)
                .collect(),
        )
    }

    /// Adds a stored message to the replay ring, in id order; false if the
    /// ring already has it. Ids can arrive out of order (the chat writer and a
    /// moderation notice commit independently), so this inserts, not appends.
    fn remember(&mut self, message: &ChatMessage) -> bool {
        let Some(id) = message.id else {
            return false;
        };
        let pos = match self.history.binary_search_by_key(&id, |e| e.id) {
            Ok(_) => return false,
            Err(pos) => pos,
        };
        let full = self.history.len() >= self.deps.config.history_size;
        if full && pos == 0 {
            return true; // older than everything kept: deliver, don't keep
        }
        let frame = ServerFrame::Chat {
            message,
            history: true,
        };
        self.history.insert(
            pos,
            HistoryEntry {
                id,
                username: message.username.clone(),
                is_notice: message.message_type != MessageType::Message,
                frame: Utf8Bytes::from(frame.to_json()),
            },
        );
        while self.history.len() > self.deps.config.history_size {
            self.history.pop_front();
        }
        true
    }

    /// Appends one shared frame to the ring and wakes the sockets waiting
    /// for it. A socket more than the ring behind is closed as lagging (its
    /// writer skips best-effort frames once it is half the ring behind).
    fn broadcast(&mut self, frame: Utf8Bytes, priority: Priority) {
        let started = std::time::Instant::now();
        let tail = self.fanout.push(frame, priority == Priority::Required);
        let limit = self.fanout.capacity();
        let mut lagging = Vec::new();
        for (conn, attach) in &self.subs {
            if attach.outbox.behind(tail) > limit {
                lagging.push(*conn);
            } else {
                attach.outbox.wake();
            }
        }
        let kind = if priority == Priority::BestEffort {
            "reaction"
        } else {
            "chat"
        };
        let delivered = (self.subs.len() - lagging.len()) as u64;
        metrics::counter!("stampede_frames_delivered_total", "kind" => kind).increment(delivered);
        metrics::counter!("stampede_frames_dropped_total", "reason" => "lagging")
            .increment(lagging.len() as u64);
        metrics::histogram!("stampede_broadcast_seconds").record(started.elapsed().as_secs_f64());
        for conn in lagging {
            tracing::debug!(
                stream_id = self.spec.key.stream_id,
                "closing a lagging socket"
            );
            self.kick(conn, Close::lagging());
        }
    }
}

impl RoomActor {
    /// The ban keeping `user_id` out right now, as its RFC 3339 end (`None`
    /// inside = permanent). A timeout that has run out no longer counts.
    fn ban_of(&self, user_id: i32) -> Option<Option<String>> {
        match self.banned.get(&user_id)? {
            None => Some(None),
            Some((text, until)) if *until > OffsetDateTime::now_utc() => Some(Some(text.clone())),
            Some(_) => None,
        }
    }
}

/// The client frames of an event, as JSON.
fn render(event: &RoomEvent) -> Vec<String> {
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
        RoomEvent::Clear { username } => vec![ServerFrame::Clear {
            username: username.as_deref(),
        }
        .to_json()],
        RoomEvent::Settings { slow_mode_seconds } => vec![ServerFrame::Settings {
            slow_mode_seconds: *slow_mode_seconds,
        }
        .to_json()],
        RoomEvent::Ban { .. } | RoomEvent::Unban { .. } => Vec::new(),
    }
}

/// Adds `"offset"` and `"epoch"` to a frame's JSON object.
fn with_seq(json: &str, seq: &Seq) -> String {
    // The epoch is our own hex name, safe inside a JSON string as is.
    format!(
        "{{\"offset\":{},\"epoch\":\"{}\",{}",
        seq.offset,
        seq.epoch,
        json.strip_prefix('{').unwrap_or(json)
    )
}

fn json_frame(frame: &ServerFrame<'_>) -> Utf8Bytes {
    Utf8Bytes::from(frame.to_json())
}

fn pin_frame(message: &ChatMessage) -> Utf8Bytes {
    json_frame(&ServerFrame::Pin {
        id: message.id.unwrap_or_default(),
        message,
    })
}

fn banned_close(until: Option<&str>) -> Close {
    Close {
        code: CLOSE_BANNED,
        reason: "banned",
        frame: Some(Utf8Bytes::from(banned_json(until))),
    }
}

/// Whether a frame may be skipped for a socket whose queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    /// Chat: never silently dropped; a socket that cannot take it is closed.
    Required,
    /// Reactions: ephemeral by nature; a slow socket just misses some.
    BestEffort,
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
