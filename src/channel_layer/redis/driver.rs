//! The task that owns the Redis connections: publishes in pipelines,
//! (re)subscribes groups, and notices outages and recoveries.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use redis::{PushInfo, Value};
use tokio::sync::mpsc;

use super::log::LOGGED_PUBLISH;
use super::subscriptions::Subscriptions;
use super::*;
use crate::redis_conn::SlotPipe;

/// The two connections the driver holds once Redis answers.
struct Connections {
    subscriber: RedisConn,
    publisher: RedisConn,
}

async fn connect(
    target: &RedisTarget,
    push_tx: &mpsc::UnboundedSender<PushInfo>,
) -> redis::RedisResult<Connections> {
    let subscriber = target
        .subscriber(Timeouts::DEFAULT, push_tx.clone())
        .await?;
    let publisher = target.connect(Timeouts::DEFAULT).await?;
    Ok(Connections {
        subscriber,
        publisher,
    })
}

/// Sends one pipeline (on a cluster, one per room's slot); returns the
/// sequence each item got (`None` if unlogged).
async fn publish_batch(
    shared: &Driver,
    c: &mut Connections,
    batch: &[Outgoing],
) -> redis::RedisResult<Vec<Option<Seq>>> {
    let publish = c.publisher.publish_command();
    let mut pipe = SlotPipe::new();
    let mut answer_of = Vec::with_capacity(batch.len());
    for item in batch {
        let mut head = Vec::with_capacity(17);
        head.extend_from_slice(&shared.node_id);
        if item.logged {
            let mut eval = redis::cmd("EVAL");
            eval.arg(LOGGED_PUBLISH)
                .arg(3)
                .arg(format!("{}:offset", item.group))
                .arg(format!("{}:epoch", item.group))
                .arg(format!("{}:log", item.group))
                .arg(item.payload.as_ref())
                .arg(&*new_epoch())
                .arg(&item.group)
                .arg(head)
                .arg(LOG_CAPACITY)
                .arg(publish);
            answer_of.push(Some(pipe.keep(eval)));
        } else {
            head.push(b'U');
            head.extend_from_slice(&item.payload);
            let mut cmd = redis::cmd(publish);
            cmd.arg(&item.group).arg(head);
            pipe.skip(cmd);
            answer_of.push(None);
        }
    }
    let replies = pipe.run(&mut c.publisher).await?;
    answer_of
        .into_iter()
        .map(|at| match at {
            None => Ok(None),
            Some(at) => {
                let value = replies.get(at).unwrap_or(&Value::Nil);
                let (offset, epoch): (u64, String) = redis::from_redis_value_ref(value)?;
                Ok(Some(Seq {
                    offset,
                    epoch: Arc::from(epoch),
                }))
            }
        })
        .collect()
}

/// Retries of a batch a cluster refused (a slot moving answers `MOVED`,
/// `TRYAGAIN` or times out until clients follow): 100, 200, 300 ms.
const PUBLISH_RETRIES: u64 = 3;

/// [`publish_batch`], and on a cluster again after a refusal. A batch whose
/// reply was lost may then be published twice: receivers drop chat lines
/// they hold already by id, and a doubled event beats a lost one.
async fn publish_retrying(
    shared: &Driver,
    c: &mut Connections,
    batch: &[Outgoing],
) -> redis::RedisResult<Vec<Option<Seq>>> {
    let mut attempt = 0;
    loop {
        match publish_batch(shared, c, batch).await {
            Err(err) if c.publisher.is_cluster() && attempt < PUBLISH_RETRIES => {
                attempt += 1;
                tracing::debug!(error = %err, attempt, "publish refused; retrying");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            result => return result,
        }
    }
}

/// Owns the connections: subscribes, publishes in pipelines, watches health.
pub(super) async fn drive(
    shared: Arc<Driver>,
    push_tx: mpsc::UnboundedSender<PushInfo>,
    mut publish_rx: mpsc::Receiver<Outgoing>,
    mut control_rx: mpsc::UnboundedReceiver<Control>,
) {
    let mut subs = Subscriptions::default();
    let mut conns: Option<Connections> = None;
    // Subscriptions made while Redis was down must be made again.
    let mut resubscribe = true;
    // On a cluster: which masters served which slots at the last check.
    let mut topology: Option<Vec<SlotOwner>> = None;
    let mut batch: Vec<Outgoing> = Vec::with_capacity(PIPELINE);
    let mut check = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            control = control_rx.recv() => {
                let Some(control) = control else { return };
                let group = match control {
                    Control::Subscribe(group, ready) => {
                        subs.want(group.clone(), ready);
                        group
                    }
                    Control::Unsubscribe(group) => {
                        subs.unwant(&group);
                        if let Some(c) = conns.as_mut() {
                            if let Err(err) = c.subscriber.unsubscribe(&group).await {
                                shared.mark_down(&err);
                                resubscribe = true;
                            }
                        }
                        continue;
                    }
                    Control::Confirmed(group) => {
                        subs.confirmed(&group);
                        continue;
                    }
                    Control::Lost(group) => {
                        // Events published until the new subscription holds
                        // never reach us: the group's rooms resync once it does.
                        if !subs.lost(&group) {
                            continue;
                        }
                        tracing::warn!(group, "redis moved a subscription; subscribing again");
                        group
                    }
                };
                if let Some(c) = conns.as_mut() {
                    if let Err(err) = subs.subscribe(&mut c.subscriber, &group).await {
                        shared.mark_down(&err);
                        resubscribe = true;
                    }
                }
            }
            n = publish_rx.recv_many(&mut batch, PIPELINE) => {
                if n == 0 { return; }
                let connected = shared.up.load(Ordering::SeqCst);
                let results = match conns.as_mut() {
                    Some(c) if connected => publish_retrying(&shared, c, &batch).await,
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
                    match connect(&shared.target, &push_tx).await {
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
                    if let Err(err) = subs.subscribe_all(&mut c.subscriber).await {
                        shared.mark_down(&err);
                        continue;
                    }
                    resubscribe = false;
                }
                if c.subscriber.is_cluster() {
                    if let Err(err) = watch_cluster(c, &mut subs, &mut topology).await {
                        tracing::warn!(error = %err, "redis cluster check failed");
                        resubscribe = true;
                        continue;
                    }
                }
                shared.mark_up();
            }
        }
    }
}

/// Once a second on a cluster: moves every subscription if the masters
/// changed, and makes again those no shard confirmed in time.
async fn watch_cluster(
    c: &mut Connections,
    subs: &mut Subscriptions,
    topology: &mut Option<Vec<SlotOwner>>,
) -> redis::RedisResult<()> {
    let slots: Value = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(&mut c.publisher)
        .await?;
    let slots = masters(&slots);
    let moved = topology.as_ref().is_some_and(|before| *before != slots);
    *topology = Some(slots);
    if moved {
        return subs.rehome(&mut c.subscriber).await;
    }
    for group in subs.overdue() {
        tracing::warn!(
            group,
            "redis cluster never confirmed a subscription; subscribing again"
        );
        subs.subscribe(&mut c.subscriber, &group).await?;
    }
    Ok(())
}

/// A slot range and the address of the master serving it.
type SlotOwner = (i64, i64, Vec<u8>, i64);

/// The masters of a `CLUSTER SLOTS` answer, sorted: what the answering node
/// lists as replicas, and in which order, differs from node to node, and
/// only a master changing moves a subscription.
fn masters(slots: &Value) -> Vec<SlotOwner> {
    let Value::Array(ranges) = slots else {
        return Vec::new();
    };
    let mut owners: Vec<SlotOwner> = ranges
        .iter()
        .filter_map(|range| {
            let Value::Array(fields) = range else {
                return None;
            };
            let (Value::Int(start), Value::Int(end), Value::Array(master)) =
                (fields.first()?, fields.get(1)?, fields.get(2)?)
            else {
                return None;
            };
            let host = match master.first()? {
                Value::BulkString(host) => host.clone(),
                Value::SimpleString(host) => host.clone().into_bytes(),
                _ => return None,
            };
            let Value::Int(port) = master.get(1)? else {
                return None;
            };
            Some((*start, *end, host, *port))
        })
        .collect();
    owners.sort();
    owners
}
