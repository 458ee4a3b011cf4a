//! The hub with a real in-process channel layer.

use super::*;
use crate::channel_layer::MemoryLayer;
use crate::i18n::Locale;
use crate::notifications::event::Delivered;
use crate::notifications::frames;
use crate::room::outbox::{Outbox, Work};
use crate::store::notifications::Notification;

fn tenant(id: i32, schema: &str) -> Tenant {
    Tenant {
        id,
        name: schema.into(),
        schema: SchemaName::parse(schema).unwrap(),
    }
}

fn note(id: i64) -> Notification {
    Notification {
        id,
        kind_type: "info".into(),
        kind: "system".into(),
        title: "t".into(),
        title_key: None,
        title_args: Default::default(),
        body: String::new(),
        link: None,
        read_at: None,
        created_at: "2026-12-03T00:00:00Z".into(),
    }
}

async fn drain(outbox: &Outbox) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let work = tokio::time::timeout(Duration::from_secs(5), outbox.work(|| false, &mut out, 64))
        .await
        .expect("a frame");
    assert!(matches!(work, Work::Direct));
    out.iter()
        .map(|f| serde_json::from_str(f.as_str()).unwrap())
        .collect()
}

#[tokio::test]
async fn events_reach_only_their_users_devices_after_the_sync() {
    let layer: Arc<dyn ChannelLayer> = Arc::new(MemoryLayer::new());
    let hub = Hub::new(layer.clone(), &Shutdown::new());
    let acme = tenant(1, "acme");
    let outbox = Arc::new(Outbox::new(16));
    let device = Arc::new(Device::new(
        outbox.clone(),
        Duration::from_secs(1),
        Locale::En,
    ));
    let (registration, mut ready) = hub.register(&acme, 10, device.clone());
    let other = Arc::new(Outbox::new(16));
    let (_other, _) = hub.register(
        &acme,
        11,
        Arc::new(Device::new(
            other.clone(),
            Duration::from_secs(1),
            Locale::En,
        )),
    );
    wait_ready(&mut ready).await;
    device.begin_sync();
    let item = |id| Delivered {
        user_id: 10,
        unread: id,
        notification: note(id),
    };
    layer.publish(
        &event::group("acme"),
        Event::New {
            items: vec![item(1)],
        }
        .encode(),
    );
    // Published during the read: held behind the gate. (The hub's
    // listener task runs on this test's thread once it yields.)
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    device.finish_sync(frames::sync(0, &[], Locale::En));
    let got = drain(&outbox).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["type"], "notification.sync");
    assert_eq!(got[1]["type"], "notification.new");
    assert_eq!(got[1]["notification"]["id"], 1);
    layer.publish(
        &event::group("acme"),
        Event::Read {
            user_id: 10,
            ids: vec![1],
            unread: 0,
        }
        .encode(),
    );
    let got = drain(&outbox).await;
    assert_eq!(got[0]["type"], "notification.read");
    let probe = axum::extract::ws::Utf8Bytes::from_static("{\"probe\":1}");
    assert!(other.send(probe));
    assert_eq!(
        drain(&other).await[0]["probe"],
        1,
        "nothing for user 11 before"
    );
    assert_eq!(hub.devices(), 2);
    drop(registration);
    assert_eq!(hub.devices(), 1);
    assert_eq!(hub.local_users(1).unwrap().1, vec![11]);
}
