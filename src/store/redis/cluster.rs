//! The store on a Redis Cluster (feature `redis-cluster`).
//!
//! Every key of one subject shares the hash tag `{<user id>}`, so each
//! script's keys live in one slot and the cluster client sends it (by its
//! first key) to the primary of that slot. A script the node has not cached
//! (`NOSCRIPT`: a restarted or new primary, `SCRIPT FLUSH`) is loaded on
//! every primary (`SCRIPT LOAD` goes to all of them) and sent again.
//! Purging scans each primary in turn: a key lives on exactly one of them.

use std::sync::Arc;
use std::time::Duration;

use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, RedisResult, Value};

use super::connection::Connection;
use super::{unavailable, RedisTokenStore};
use crate::store::StoreError;

impl RedisTokenStore {
    /// Connects to the Redis Cluster that `nodes` belong to
    /// (`redis://host:port/`, one or more; the others are discovered) with
    /// keys under `simplejwt:` (feature `redis-cluster`).
    ///
    /// Connections to the nodes reconnect on their own and follow the
    /// cluster's slot moves (`MOVED`, `ASK`, failovers, a few retries at most);
    /// while a node is away, commands for its slots fail within about 2
    /// seconds with [`StoreError::Unavailable`] (503).
    ///
    /// A command whose connection drops is sent again once the client has
    /// reconnected; a rotation whose reply was lost that way is then seen
    /// as a replay, and answered within the grace window like any client
    /// retry (see [`reuse_grace`](crate::config::JwtConfig::reuse_grace)).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tower_simplejwt::store::redis::RedisTokenStore;
    ///
    /// # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
    /// let store = RedisTokenStore::connect_cluster([
    ///     "redis://127.0.0.1:7000/",
    ///     "redis://127.0.0.1:7001/",
    ///     "redis://127.0.0.1:7002/",
    /// ])
    /// .await?;
    /// # drop(store);
    /// # Ok(()) }
    /// ```
    pub async fn connect_cluster(
        nodes: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<Self, StoreError> {
        Self::connect_cluster_with_namespace(nodes, "simplejwt").await
    }

    /// Like [`connect_cluster`](Self::connect_cluster), with keys under
    /// `namespace:` (to share a cluster between apps or tests).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tower_simplejwt::store::redis::RedisTokenStore;
    ///
    /// # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
    /// let nodes = vec!["redis://10.0.0.1:6379/".to_owned(), "redis://10.0.0.2:6379/".to_owned()];
    /// let store = RedisTokenStore::connect_cluster_with_namespace(&nodes, "myapp-jwt").await?;
    /// # drop(store);
    /// # Ok(()) }
    /// ```
    pub async fn connect_cluster_with_namespace(
        nodes: impl IntoIterator<Item = impl AsRef<str>>,
        namespace: &str,
    ) -> Result<Self, StoreError> {
        let nodes: Vec<String> = nodes.into_iter().map(|node| node.as_ref().into()).collect();
        if nodes.is_empty() {
            return Err(StoreError::unavailable(NoNodes));
        }
        let client = ClusterClient::builder(nodes)
            .connection_timeout(Duration::from_secs(2))
            .response_timeout(Duration::from_secs(2))
            .retries(3)
            .min_retry_wait(50)
            .max_retry_wait(500)
            .build()
            .map_err(unavailable)?;
        let connection = client.get_async_connection().await.map_err(unavailable)?;
        Ok(RedisTokenStore {
            connection: Connection::Cluster(connection),
            namespace: Arc::from(namespace),
            pause: None,
        })
    }
}

/// A cluster store was given no node to start from.
#[derive(Debug, thiserror::Error)]
#[error("no Redis Cluster node given")]
struct NoNodes;

/// One slot of each primary, from `CLUSTER SLOTS` (asked of any primary).
pub(super) async fn primaries(connection: &mut ClusterConnection) -> RedisResult<Vec<u16>> {
    let reply = connection
        .route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary),
        )
        .await?;
    let ranges: Vec<Vec<Value>> = redis::from_redis_value(reply)?;
    let mut seen = Vec::new();
    let mut slots = Vec::new();
    for range in ranges {
        // [first slot, last slot, [host, port, node id, …] of the primary, replicas…]
        let (Some(first), Some(primary)) = (range.first(), range.get(2)) else {
            continue;
        };
        let first: u16 = redis::from_redis_value_ref(first)?;
        let primary: Vec<Value> = redis::from_redis_value_ref(primary)?;
        let identity = node_identity(&primary)?;
        if !seen.contains(&identity) {
            seen.push(identity);
            slots.push(first);
        }
    }
    Ok(slots)
}

/// A node of a `CLUSTER SLOTS` reply: its id, or its address when the reply has no id.
fn node_identity(node: &[Value]) -> RedisResult<String> {
    if let Some(id) = node.get(2) {
        return Ok(redis::from_redis_value_ref(id)?);
    }
    let host: String = node
        .first()
        .map(redis::from_redis_value_ref)
        .transpose()?
        .unwrap_or_default();
    let port: u16 = node
        .get(1)
        .map(redis::from_redis_value_ref)
        .transpose()?
        .unwrap_or_default();
    Ok(format!("{host}:{port}"))
}

/// One `SCAN` step on the primary serving `slot`.
pub(super) async fn scan_primary(
    connection: &mut ClusterConnection,
    command: Cmd,
    slot: u16,
) -> RedisResult<(u64, Vec<String>)> {
    let route = Route::new(slot, SlotAddr::Master);
    let reply = connection
        .route_command(
            command,
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
        )
        .await?;
    Ok(redis::from_redis_value(reply)?)
}
