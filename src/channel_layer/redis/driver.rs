//! The task that owns the Redis connections: publishes in pipelines,
//! (re)subscribes groups, and notices outages and recoveries.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use redis::PushInfo;
use tokio::sync::{mpsc, watch};

use super::log::LOGGED_PUBLISH;
use super::*;

/// The two connections the driver holds once Redis answers.
struct Connections {
    subscriber: ConnectionManager,
    publisher: ConnectionManager,
}

async fn connect(
    client: &redis::Client,
    push_tx: &mpsc::UnboundedSender<PushInfo>,
) -> redis::RedisResult<Connections> {
    let subscriber = client
        .get_connection_manager_with_config(
            config()
                .set_push_sender(push_tx.clone())
                .set_automatic_resubscription(),
        )
        .await?;
    let publisher = client.get_connection_manager_with_config(config()).await?;
    Ok(Connections {
        subscriber,
        publisher,
    })
}

/// Sends one pipeline; returns the sequence each item got (`None` if unlogged).
async fn publish_batch(
    shared: &Driver,
    c: &mut Connections,
    batch: &[Outgoing],
) -> redis::RedisResult<Vec<Option<Seq>>> {
    let mut pipe = redis::pipe();
    for item in batch {
        let mut head = Vec::with_capacity(17);
        head.extend_from_slice(&shared.node_id);
        if item.logged {
            pipe.cmd("EVAL")
                .arg(LOGGED_PUBLISH)
                .arg(3)
                .arg(format!("{}:offset", item.group))
                .arg(format!("{}:epoch", item.group))
                .arg(format!("{}:log", item.group))
                .arg(item.payload.as_ref())
                .arg(&*new_epoch())
                .arg(&item.group)
                .arg(head)
                .arg(LOG_CAPACITY);
        } else {
            head.push(b'U');
            head.extend_from_slice(&item.payload);
            pipe.publish(&item.group, head).ignore();
        }
    }
    let replies: Vec<(u64, String)> = pipe.query_async(&mut c.publisher).await?;
    let mut replies = replies.into_iter();
    Ok(batch
        .iter()
        .map(|item| {
            if !item.logged {
                return None;
            }
            replies.next().map(|(offset, epoch)| Seq {
                offset,
                epoch: Arc::from(epoch),
            })
        })
        .collect())
}

/// Owns the connections: subscribes, publishes in pipelines, watches health.
pub(super) async fn drive(
    client: redis::Client,
    shared: Arc<Driver>,
    push_tx: mpsc::UnboundedSender<PushInfo>,
    mut publish_rx: mpsc::Receiver<Outgoing>,
    mut control_rx: mpsc::UnboundedReceiver<Control>,
) {
    // Groups this node needs, with the flag telling subscribers they are live.
    let mut wanted: HashMap<String, watch::Sender<bool>> = HashMap::new();
    let mut conns: Option<Connections> = None;
    // Subscriptions made while Redis was down must be made again.
    let mut resubscribe = true;
    let mut batch: Vec<Outgoing> = Vec::with_capacity(PIPELINE);
    let mut check = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            control = control_rx.recv() => {
                let Some(control) = control else { return };
                match control {
                    Control::Subscribe(group, ready) => {
                        if let Some(c) = conns.as_mut() {
                            match c.subscriber.subscribe(&group).await {
                                Ok(()) => { let _ = ready.send(true); }
                                Err(err) => {
                                    shared.mark_down(&err);
                                    resubscribe = true;
                                }
                            }
                        }
                        wanted.insert(group, ready);
                    }
                    Control::Unsubscribe(group) => {
                        wanted.remove(&group);
                        if let Some(c) = conns.as_mut() {
                            if let Err(err) = c.subscriber.unsubscribe(&group).await {
                                shared.mark_down(&err);
                                resubscribe = true;
                            }
                        }
                    }
                }
            }
            n = publish_rx.recv_many(&mut batch, PIPELINE) => {
                if n == 0 { return; }
                let connected = shared.up.load(Ordering::SeqCst);
                let results = match conns.as_mut() {
                    Some(c) if connected => publish_batch(&shared, c, &batch).await,
                    _ => Err(redis::RedisError::from((redis::ErrorKind::Io, "redis is down"))),
                };
                match results {
                    Ok(seqs) => {
                        for (item, seq) in batch.drain(..).zip(seqs) {
                            if item.logged {
                                shared.local.deliver(&item.group, Delivery { seq, payload: item.payload });
                            }
                        }
                    }
                    Err(err) => {
                        if connected {
                            shared.mark_down(&err);
                            resubscribe = true;
                        }
                        shared.count_dropped(batch.len() as u64);
                        // Local viewers still get logged events, without an offset.
                        for item in batch.drain(..).filter(|i| i.logged) {
                            shared.local.deliver(&item.group, Delivery { seq: None, payload: item.payload });
                        }
                    }
                }
                batch.clear();
            }
            _ = check.tick() => {
                if conns.is_none() {
                    match connect(&client, &push_tx).await {
                        Ok(c) => conns = Some(c),
                        Err(err) => {
                            shared.mark_down(&err);
                            continue;
                        }
                    }
                }
                let Some(c) = conns.as_mut() else { continue };
                // A PING on each connection makes the managers notice a
                // restart and reconnect.
                let ping_sub: redis::RedisResult<()> = redis::cmd("PING").query_async(&mut c.subscriber).await;
                let ping_pub: redis::RedisResult<()> = redis::cmd("PING").query_async(&mut c.publisher).await;
                if let Err(err) = ping_sub.and(ping_pub) {
                    shared.mark_down(&err);
                    resubscribe = true;
                    continue;
                }
                if resubscribe {
                    let mut ok = true;
                    for (group, ready) in &wanted {
                        if let Err(err) = c.subscriber.subscribe(group).await {
                            shared.mark_down(&err);
                            ok = false;
                            break;
                        }
                        let _ = ready.send(true);
                    }
                    if !ok {
                        continue;
                    }
                    resubscribe = false;
                }
                shared.mark_up();
            }
        }
    }
}
