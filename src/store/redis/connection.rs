//! The connection a store sends its commands on: one server, or a cluster
//! whose client routes each command to the primary of its keys' slot.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

#[cfg(feature = "redis-cluster")]
use super::cluster;

/// One Redis server, or a Redis Cluster. Cloning is cheap and shares the
/// connection (and, for a cluster, its connections to every node).
#[derive(Clone)]
pub(super) enum Connection {
    /// One server, through a connection that reconnects on its own.
    Single(ConnectionManager),
    /// A cluster: a script goes to the primary of its first key's slot, and
    /// all of a script's keys share one hash tag, so one slot.
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

/// A node whose keyspace a purge scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScanTarget {
    /// The one server.
    Server,
    /// The primary serving this slot (one slot of each primary is enough).
    #[cfg(feature = "redis-cluster")]
    PrimaryOf(u16),
}

impl Connection {
    /// Every node that holds keys: the server, or each primary of the cluster.
    pub(super) async fn scan_targets(&mut self) -> RedisResult<Vec<ScanTarget>> {
        match self {
            Connection::Single(_) => Ok(vec![ScanTarget::Server]),
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster(connection) => Ok(cluster::primaries(connection)
                .await?
                .into_iter()
                .map(ScanTarget::PrimaryOf)
                .collect()),
        }
    }

    /// One `SCAN` step on `target`: the next cursor (0 at the end) and the keys matching `pattern`.
    pub(super) async fn scan(
        &mut self,
        target: ScanTarget,
        cursor: u64,
        pattern: &str,
    ) -> RedisResult<(u64, Vec<String>)> {
        let mut command = redis::cmd("SCAN");
        command
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000);
        match (self, target) {
            #[cfg(feature = "redis-cluster")]
            (Connection::Cluster(connection), ScanTarget::PrimaryOf(slot)) => {
                cluster::scan_primary(connection, command, slot).await
            }
            // The one server (only a cluster's scan targets are its primaries).
            (connection, _) => command.query_async(connection).await,
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(connection) => connection.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(connection) => connection.get_db(),
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}
