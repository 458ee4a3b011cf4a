//! The room actor: a `select!` loop over its commands, its channel-layer
//! groups and two timers, delegating to the room's parts ([`RoomState`]:
//! history, rules and the resume log; [`Members`]; [`Reactions`]). It never does
//! socket I/O and never awaits a peer: broadcasts go to the room's
//! [`Fanout`] ring, which every socket's writer reads at its own pace, and a
//! socket's own frames to its bounded [`Outbox`](super::outbox::Outbox). A
//! socket that falls more than the ring behind is closed with
//! [`CLOSE_LAGGING`](super::CLOSE_LAGGING) instead of stalling the room.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::sync::oneshot;
use tokio::time::{sleep_until, Instant};

use super::directory::Directory;
use super::event::publish;
use super::fanout::{Cursor, Fanout, Kind};
use super::handle::{ChatLine, Command, RoomStats};
use super::members::Members;
use super::reactions::Reactions;
use super::services::RoomServices;
use super::state::{banned_close, frame, RoomState, Source};
use super::writer::{ChatQueue, Pending};
use super::{Attach, Close, ConnId, RoomKey};
use crate::channel_layer::{Delivery, LayerStatus, RecvError, Subscription};
use crate::chat::{ChatMessage, RoomEvent};
use crate::store::stamps::Stamp;
use crate::tenant::SchemaName;
use crate::wire::{error_json, with_client_id, with_seq, ErrorCode, ServerFrame};

/// Longest wait for the channel layer to confirm a room's subscriptions.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(10);
/// The same while the broker is known to be unreachable: it cannot confirm,
/// so the room starts soon and serves this node's viewers meanwhile.
const SUBSCRIBE_WAIT_DEGRADED: Duration = Duration::from_secs(2);

/// How often a room waiting for its subscriptions looks at the layer's status.
const STATUS_POLL: Duration = Duration::from_millis(250);

/// Everything the actor needs to start.
pub(crate) struct RoomSpec {
    pub key: RoomKey,
    pub actor_id: u64,
    pub schema: SchemaName,
    pub room_id: i32,
}

pub(crate) struct RoomActor {
    spec: RoomSpec,
    services: Arc<RoomServices>,
    directory: Arc<Directory>,
    group: String,
    rx: mpsc::Receiver<Command>,
    chat: ChatQueue,
    reactions: Reactions,
    members: Members,
    fanout: Arc<Fanout>,
    state: RoomState,
    stats: Arc<RoomStats>,
    /// The presence last sent to sockets, so only changes are sent.
    announced: Option<(u64, u64)>,
}

impl RoomActor {
    /// Spawns the actor and its writers; returns at once.
    pub(crate) fn spawn(
        spec: RoomSpec,
        services: Arc<RoomServices>,
        directory: Arc<Directory>,
        (tx, rx): (mpsc::WeakSender<Command>, mpsc::Receiver<Command>),
        stats: Arc<RoomStats>,
    ) {
        let schema = spec.schema.as_str();
        let group = crate::channel_layer::room_group(schema, spec.key.stream_id);
        // Subscribe before loading history so nothing published in between is missed;
        // duplicates are dropped by id.
        let subscription = services.layer.subscribe(&group);
        let tenant_subscription = services
            .layer
            .subscribe(&crate::channel_layer::tenant_group(schema));
        let (chat, reactions) =
            services.writers(&spec.schema, spec.key.stream_id, spec.room_id, &group, tx);
        let actor = RoomActor {
            fanout: Fanout::new(services.config.outbound_queue),
            state: RoomState::new(services.config.history_size),
            spec,
            services,
            directory,
            group,
            rx,
            chat,
            reactions,
            members: Members::new(stats.roster.clone()),
            stats,
            announced: None,
        };
        tokio::spawn(async move {
            metrics::gauge!("stampede_rooms").increment(1.0);
            actor.run(subscription, tenant_subscription).await;
            metrics::gauge!("stampede_rooms").decrement(1.0);
        });
    }

    async fn run(mut self, mut room: Subscription, mut tenant: Subscription) {
        // Once the broker confirms, everything committed from now on reaches
        // this node; what was committed before comes from the database.
        // A subscription confirmed only after the room started, or lost
        // and made again later (a cluster moving the room's slot), missed
        // what was published meanwhile: watched, and repaired when it holds.
        let started = Instant::now();
        let mut unconfirmed = false;
        for sub in [&mut room, &mut tenant] {
            if !self.await_confirmation(sub, started).await {
                tracing::warn!(
                    stream_id = self.spec.key.stream_id,
                    "starting room without a confirmed subscription"
                );
                unconfirmed = true;
            }
        }
        let mut confirmations: Vec<_> = [&room, &tenant]
            .into_iter()
            .filter_map(|sub| sub.confirmation())
            .collect();
        for rx in &mut confirmations {
            rx.borrow_and_update();
        }
        self.state.load(&source(&self.services, &self.spec)).await;
        self.share_slow_mode();
        let idle = self.services.config.room_idle();
        let mut idle_deadline = Instant::now() + idle;
        // The room, not each socket, watches for shutdown: one waiter per
        // room instead of one shared-lock poll per socket wake-up.
        let shutdown = self.services.shutdown.clone();
        let stopping = shutdown.begun();
        tokio::pin!(stopping);
        let mut closing = false;
        loop {
            tokio::select! {
                _ = &mut stopping, if !closing => {
                    closing = true;
                    self.members.close_all(Close::going_away());
                }
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => {
                        self.handle(cmd);
                        if self.members.is_empty() {
                            idle_deadline = Instant::now() + idle;
                        }
                    }
                    // Every handle is gone: the registry dropped us at shutdown.
                    None => break,
                },
                event = room.recv() => match event {
                    Ok(delivery) => self.on_event(&delivery),
                    Err(RecvError::Lagged(missed)) => self.on_room_lagged(missed).await,
                    Err(RecvError::Closed) => break,
                },
                event = tenant.recv() => match event {
                    Ok(delivery) => self.on_event(&delivery),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "room lagged behind its tenant group");
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = changed(&mut confirmations), if !confirmations.is_empty() => {
                    // A sender gone: the layer let go of it, nothing to wait for.
                    confirmations.retain(|rx| rx.has_changed().is_ok());
                    let all = confirmations.iter_mut().all(|rx| *rx.borrow_and_update());
                    if !all {
                        unconfirmed = true;
                    } else if unconfirmed {
                        unconfirmed = false;
                        self.on_late_subscription().await;
                    }
                }
                _ = sleep_until(self.reactions.deadline()), if !self.reactions.is_empty() => {
                    self.publish_reactions();
                }
                _ = sleep_until(idle_deadline), if self.members.is_empty() && self.reactions.is_empty() => {
                    if self.directory.remove_if_current(self.spec.key, self.spec.actor_id) {
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

    /// Waits for the broker to confirm `sub`: up to [`SUBSCRIBE_WAIT`]
    /// since `started`, or [`SUBSCRIBE_WAIT_DEGRADED`] once the layer is
    /// known to be down (even if it went down during the wait: the viewers
    /// who just joined are not kept waiting for a broker that is gone).
    async fn await_confirmation(&self, sub: &mut Subscription, started: Instant) -> bool {
        loop {
            let limit = match self.services.layer.status() {
                LayerStatus::Degraded => SUBSCRIBE_WAIT_DEGRADED,
                _ => SUBSCRIBE_WAIT,
            };
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                return false;
            }
            if sub.ready(left.min(STATUS_POLL)).await {
                return true;
            }
        }
    }

    /// The room's group dropped events for us: its sockets missed them, so
    /// they reconnect rather than show a gap, and the replay ring, which has
    /// the same gap, is rebuilt.
    async fn on_room_lagged(&mut self, missed: u64) {
        let stream_id = self.spec.key.stream_id;
        tracing::warn!(stream_id, missed, "room lagged behind its group");
        self.resync().await;
    }

    /// Sends every socket away to resume (they reconnect rather than show
    /// a gap) and reloads history, which has the gap too.
    async fn resync(&mut self) {
        for conn in self.members.conns(None) {
            self.kick(conn, Close::lagging());
        }
        self.state.history.reset();
        let from = source(&self.services, &self.spec);
        self.state.load_history(&from).await;
    }

    /// The room's subscriptions were confirmed only after it started, or
    /// made again after the broker dropped one: events published in between
    /// never reached it. As after a lag: its sockets
    /// reconnect and resume from the broker's log, and history is reloaded.
    async fn on_late_subscription(&mut self) {
        let stream_id = self.spec.key.stream_id;
        tracing::warn!(stream_id, "subscription confirmed late; members resync");
        self.resync().await;
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Join { attach, respond_to } => self.join(attach, respond_to),
            Command::Leave { conn } => self.detach(conn),
            Command::Chat { conn, line } => self.chat(conn, line),
            Command::Echo {
                original,
                deleted,
                to,
            } => {
                for frame in self.state.resent_stored(&original, deleted) {
                    to.send(frame);
                }
            }
            Command::React { conn, stamp } => self.react(conn, &stamp),
            Command::Presence { viewers, chatters } => self.presence(viewers, chatters),
            Command::End => {
                self.state.ended = true;
                self.members.close_all(Close::stream_ended());
            }
        }
    }

    fn join(&mut self, attach: Attach, respond_to: oneshot::Sender<(ConnId, Cursor)>) {
        let conn = self.members.next_id();
        // From here on the socket sees every broadcast; what came before
        // reaches it through its own queue (history or replay).
        let cursor = self.fanout.cursor(attach.position.clone());
        let refusal = if self.services.shutdown.is_begun() {
            // Admitted just before shutdown began; the room closed the others already.
            Some(Close::going_away())
        } else {
            self.state.welcome(&attach, OffsetDateTime::now_utc())
        };
        if let Some(close) = refusal {
            attach.outbox.close(close);
            let _ = respond_to.send((conn, cursor));
            return;
        }
        if respond_to.send((conn, cursor)).is_err() {
            return; // the socket gave up while waiting; it was never announced
        }
        let notice = ChatMessage::joined(&attach.member.username);
        let read_only = attach.read_only;
        if self.members.insert(conn, attach) && !read_only {
            self.announce(notice);
        }
    }

    /// Removes a socket; announces `leave` when it was the user's last one.
    fn detach(&mut self, conn: ConnId) {
        let Some((attach, last)) = self.members.remove(conn) else {
            return;
        };
        if last && !attach.read_only {
            self.announce(ChatMessage::left(&attach.member.username));
        }
    }

    /// Closes the sockets of a user banned just now (read-only ones stay).
    fn kick_user(&mut self, user_id: i32, until: Option<&str>, reason: Option<&str>) {
        for conn in self.members.conns(Some(user_id)) {
            if self.members.get(conn).is_some_and(|a| !a.read_only) {
                self.kick(conn, banned_close(until, reason));
            }
        }
    }

    /// Tells a user's read-only sockets that their ban was lifted.
    fn ban_lifted(&self, user_id: i32) {
        let lifted = frame(&ServerFrame::BanLifted);
        for conn in self.members.conns(Some(user_id)) {
            if let Some(attach) = self.members.get(conn).filter(|a| a.read_only) {
                attach.outbox.send(lifted.clone());
            }
        }
    }

    /// Sends a frame about a held line to its author's sockets and the
    /// room's moderators' (nobody else may see a held line).
    fn tell_author_and_moderators(&self, author_id: Option<i32>, frame: &Utf8Bytes) {
        for conn in self.members.conns(None) {
            if let Some(attach) = self.members.get(conn) {
                if attach.is_moderator || Some(attach.member.user_id) == author_id {
                    attach.outbox.send(frame.clone());
                }
            }
        }
    }

    fn kick(&mut self, conn: ConnId, close: Close) {
        if let Some(attach) = self.members.get(conn) {
            attach.outbox.close(close);
        }
        self.detach(conn);
    }

    fn chat(&mut self, conn: ConnId, line: ChatLine) {
        let Some(attach) = self.members.get(conn) else {
            return;
        };
        let (user_id, now) = (attach.member.user_id, Instant::now());
        // A resend of a line the room broadcast: the sender gets that line
        // again; nothing is stored, broadcast or counted against slow mode.
        let resent = line
            .client_id
            .as_deref()
            .filter(|_| self.state.refuse_banned(user_id).is_none())
            .and_then(|id| self.state.resent(&attach.member.username, id));
        if let Some(frames) = resent {
            for frame in frames {
                attach.outbox.send(frame);
            }
            return;
        }
        let (exempt, verdict) = (attach.is_moderator, line.slow_mode);
        if let Some(refusal) = self.state.refuse_chat(user_id, exempt, verdict, now) {
            let refusal = with_client_id(refusal.as_str(), line.client_id.as_deref());
            attach.outbox.send(Utf8Bytes::from(refusal));
            return;
        }
        let pending = Pending::new(&attach.member, line, attach.outbox.clone(), now);
        self.members.chatted(user_id, now);
        self.chat.submit(pending);
    }

    /// Accepts a reaction: queues its row, and adds it to the current tick.
    fn react(&mut self, conn: ConnId, stamp: &Stamp) {
        let Some(attach) = self.members.get(conn) else {
            return;
        };
        let out = &attach.outbox;
        if let Some(refusal) = self.state.refuse_banned(attach.member.user_id) {
            out.send(refusal);
            return;
        }
        if self
            .reactions
            .accept(self.spec.key.stream_id, &attach.member, stamp)
            .is_err()
        {
            // Not accepted, so not stored and not shown: say so.
            let frame = error_json(ErrorCode::Overloaded, "too many reactions right now", None);
            out.send(Utf8Bytes::from(frame));
            return;
        }
        metrics::counter!("stampede_reactions_received_total").increment(1);
    }

    /// Ends the current tick: publishes its reactions, one by one or as a burst.
    fn publish_reactions(&mut self) {
        for event in self.reactions.drain() {
            publish(&*self.services.layer, &self.group, &event);
        }
    }

    /// Sends the room's audience to local sockets when it changed.
    fn presence(&mut self, viewers: u64, chatters: u64) {
        if self.announced.replace((viewers, chatters)) != Some((viewers, chatters)) {
            let frame = frame(&ServerFrame::Presence { viewers, chatters });
            self.broadcast(frame, Kind::Presence);
        }
    }

    /// Refreshes the counters other tasks read.
    fn update_stats(&mut self) {
        let (viewers, chatters) = self.members.counts(Instant::now());
        self.stats.set(viewers, chatters);
    }

    /// Publishes slow mode for sockets, which check it across nodes before
    /// handing a line over. Called before the change is broadcast, so a
    /// socket that has seen `chat.settings` also sees the new value.
    fn share_slow_mode(&self) {
        let slow_mode = self.state.policy.slow_mode().as_millis() as u64;
        self.stats
            .slow_mode_ms
            .store(slow_mode, std::sync::atomic::Ordering::Relaxed);
    }

    /// Publishes an unstored notice (join/leave) to the room's group, unless
    /// the room is too big for such notices to be worth a frame per viewer.
    fn announce(&self, notice: ChatMessage) {
        if !self.state.ended && self.members.len() <= self.services.config.announce_joins_up_to {
            publish(&*self.services.layer, &self.group, &RoomEvent::Chat(notice));
        }
    }

    fn on_event(&mut self, delivery: &Delivery) {
        let event = match RoomEvent::decode(&delivery.payload) {
            Ok(event) => event,
            Err(err) => return tracing::warn!(error = %err, "undecodable room event dropped"),
        };
        if let RoomEvent::Chat(message) = &event {
            if message.id.is_some() && !self.state.history.remember(message) {
                return; // already delivered (seen while loading history)
            }
        }
        let kind = match event.is_ephemeral() {
            true => Kind::Reaction,
            false => Kind::Chat,
        };
        match &event {
            RoomEvent::Ban {
                user_id,
                until,
                reason,
            } => self.kick_user(*user_id, until.as_deref(), reason.as_deref()),
            RoomEvent::Unban { user_id } => self.ban_lifted(*user_id),
            RoomEvent::Held {
                message,
                reasons,
                author_id,
            } => {
                let held = frame(&ServerFrame::Held { message, reasons });
                return self.tell_author_and_moderators(Some(*author_id), &held);
            }
            RoomEvent::Denied {
                id,
                author_id,
                expired,
            } => {
                let reason = if *expired { "expired" } else { "denied" };
                let denied = frame(&ServerFrame::Denied { id: *id, reason });
                return self.tell_author_and_moderators(*author_id, &denied);
            }
            _ => {}
        }
        let frames: Vec<Utf8Bytes> = self
            .state
            .apply(&event)
            .into_iter()
            .map(|json| match &delivery.seq {
                Some(seq) => Utf8Bytes::from(with_seq(&json, seq.offset, &seq.epoch)),
                None => Utf8Bytes::from(json),
            })
            .collect();
        if let Some(seq) = &delivery.seq {
            self.state.recent.record(seq, &event, &frames);
        }
        if let RoomEvent::Settings { .. } = event {
            self.share_slow_mode();
        }
        for frame in frames {
            self.broadcast(frame, kind);
        }
    }

    /// Appends one shared frame to the ring and wakes the sockets waiting
    /// for it. A socket more than the ring behind is closed as lagging (its
    /// writer skips best-effort frames once it is half the ring behind).
    fn broadcast(&mut self, frame: Utf8Bytes, kind: Kind) {
        let started = std::time::Instant::now();
        let tail = self.fanout.push(frame, kind);
        let limit = self.fanout.capacity();
        let lagging = self.members.wake(tail, limit);
        let delivered = (self.members.len() - lagging.len()) as u64;
        metrics::counter!("stampede_frames_delivered_total", "kind" => kind.label())
            .increment(delivered);
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

/// Where the room's rows are.
fn source<'a>(services: &'a RoomServices, spec: &'a RoomSpec) -> Source<'a> {
    Source {
        pool: &services.pool,
        schema: &spec.schema,
        room_id: spec.room_id,
        stream_id: spec.key.stream_id,
    }
}

/// Resolves when one of the confirmations changes or its sender is gone.
async fn changed(confirmations: &mut [tokio::sync::watch::Receiver<bool>]) {
    let changes = confirmations.iter_mut().map(|rx| Box::pin(rx.changed()));
    let _ = futures_util::future::select_all(changes).await;
}
