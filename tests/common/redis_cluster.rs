//! A Redis Cluster of the test's own: three masters with one replica each,
//! on loopback ports, made with `redis-cli --cluster create`, removed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::{eventually, EVENT_TIMEOUT};

/// Six `redis-server --cluster-enabled yes` processes forming one cluster.
pub struct TestRedisCluster {
    pub ports: Vec<u16>,
    children: Vec<Child>,
    dir: PathBuf,
}

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone)]
pub struct ClusterNode {
    pub id: String,
    pub port: u16,
    pub master: bool,
    /// For a replica: its master's id.
    pub master_id: Option<String>,
    /// For a master: its slot ranges.
    pub slots: Vec<(u16, u16)>,
}

/// A port free for Redis and for its cluster bus (port + 10000).
fn cluster_port(taken: &[u16]) -> u16 {
    loop {
        let port = super::free_port();
        if port > 55_000 || taken.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

async fn conn(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to a cluster node")
}

impl TestRedisCluster {
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("stampede-cluster-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let mut ports = Vec::new();
        for _ in 0..6 {
            ports.push(cluster_port(&ports));
        }
        let server =
            std::env::var("STAMPEDE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let children = ports
            .iter()
            .map(|port| {
                Command::new(&server)
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--cluster-enabled", "yes"])
                    .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                    .args(["--cluster-node-timeout", "2000"])
                    .args(["--save", "", "--appendonly", "no"])
                    .arg("--dir")
                    .arg(&dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start redis-server (install redis-server, or run scripts/test)")
            })
            .collect();
        let cluster = TestRedisCluster {
            ports,
            children,
            dir,
        };
        for &port in &cluster.ports {
            eventually(
                EVENT_TIMEOUT,
                "a cluster node did not start",
                || async move {
                    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
                    let mut c = client.get_multiplexed_async_connection().await.ok()?;
                    redis::cmd("PING").query_async::<String>(&mut c).await.ok()
                },
            )
            .await;
        }
        let nodes: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli --cluster create");
        assert!(created.success(), "redis-cli --cluster create failed");
        cluster.wait_healthy().await;
        cluster
    }

    /// Seed URLs for `--redis-cluster-urls`: every node.
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// Every node agrees the cluster is up with all slots served, and sees
    /// three masters with a replica each.
    pub async fn wait_healthy(&self) {
        for &port in &self.ports {
            eventually(
                EVENT_TIMEOUT * 3,
                "the cluster never became healthy",
                || async move {
                    let mut c = conn(port).await;
                    let info: String = redis::cmd("CLUSTER")
                        .arg("INFO")
                        .query_async(&mut c)
                        .await
                        .ok()?;
                    let ok = info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_ok:16384");
                    // A replica that has not finished its first sync would
                    // take over with nothing.
                    let replication: String = redis::cmd("INFO")
                        .arg("replication")
                        .query_async(&mut c)
                        .await
                        .ok()?;
                    let synced = replication.contains("role:master")
                        || (replication.contains("master_link_status:up")
                            && replication.contains("master_sync_in_progress:0"));
                    let nodes = Self::nodes_seen_by(port).await;
                    let masters = nodes.iter().filter(|n| n.master && !n.slots.is_empty());
                    let replicas = nodes.iter().filter(|n| !n.master).count();
                    (ok && synced && masters.count() == 3 && replicas == 3).then_some(())
                },
            )
            .await;
        }
    }

    async fn nodes_seen_by(port: u16) -> Vec<ClusterNode> {
        let mut c = conn(port).await;
        let text: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async(&mut c)
            .await
            .unwrap_or_default();
        text.lines().filter_map(parse_node).collect()
    }

    /// The cluster's nodes, as the first node sees them.
    pub async fn nodes(&self) -> Vec<ClusterNode> {
        Self::nodes_seen_by(self.ports[0]).await
    }

    /// The hash slot of `key`.
    pub async fn slot_of(&self, key: &str) -> u16 {
        let mut c = conn(self.ports[0]).await;
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut c)
            .await
            .expect("CLUSTER KEYSLOT")
    }

    /// The master serving `key`'s slot.
    pub async fn master_of(&self, key: &str) -> ClusterNode {
        let slot = self.slot_of(key).await;
        self.nodes()
            .await
            .into_iter()
            .find(|n| n.master && n.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot)))
            .expect("a master serves every slot")
    }

    /// A plain connection to one node (for reading its keys).
    pub async fn node_conn(&self, port: u16) -> redis::aio::MultiplexedConnection {
        conn(port).await
    }

    /// Promotes the replica of the master serving `key` with `CLUSTER
    /// FAILOVER` (the old master becomes its replica) and waits until the
    /// whole cluster agrees. Returns the new master's port.
    pub async fn fail_over(&self, key: &str) -> u16 {
        let old = self.master_of(key).await;
        let nodes = self.nodes().await;
        let replica = nodes
            .iter()
            .find(|n| n.master_id.as_deref() == Some(old.id.as_str()))
            .expect("the master has a replica")
            .clone();
        let mut c = conn(replica.port).await;
        let _: () = redis::cmd("CLUSTER")
            .arg("FAILOVER")
            .query_async(&mut c)
            .await
            .expect("CLUSTER FAILOVER");
        for &port in &self.ports {
            let replica_id = replica.id.clone();
            eventually(EVENT_TIMEOUT * 3, "the failover never completed", || {
                let replica_id = replica_id.clone();
                async move {
                    let nodes = Self::nodes_seen_by(port).await;
                    let promoted = nodes
                        .iter()
                        .any(|n| n.id == replica_id && n.master && !n.slots.is_empty());
                    promoted.then_some(())
                }
            })
            .await;
        }
        self.wait_healthy().await;
        replica.port
    }
}

fn parse_node(line: &str) -> Option<ClusterNode> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 8 {
        return None;
    }
    let port = fields[1]
        .split('@')
        .next()?
        .rsplit(':')
        .next()?
        .parse()
        .ok()?;
    let flags: Vec<&str> = fields[2].split(',').collect();
    let master = flags.contains(&"master");
    let slots = fields[8..]
        .iter()
        .filter(|s| !s.starts_with('['))
        .filter_map(|s| match s.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => s.parse().ok().map(|n| (n, n)),
        })
        .collect();
    Some(ClusterNode {
        id: fields[0].to_owned(),
        port,
        master,
        master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
        slots,
    })
}

impl Drop for TestRedisCluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
