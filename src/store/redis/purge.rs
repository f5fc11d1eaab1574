//! Purging expired records and ended grace windows by scanning the namespace
//! on every node that holds keys (each primary of a cluster).

use std::sync::LazyLock;

use redis::{ErrorKind, Script, ServerErrorKind};

use super::connection::Connection;
use super::unavailable;
use crate::store::{StoreError, CLOCK_SKEW_MARGIN};

static PURGE_KEY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("purge_key.lua")));

/// Scans every key under `namespace:{` on every node that holds keys (the
/// server, or each primary of a cluster), purging each one whose time is
/// over at `now` (one script per key: atomic, and one slot on Redis
/// Cluster); returns how many token records were deleted.
///
/// A key the script cannot handle (a foreign key under the prefix that
/// makes it fail) is skipped with a warning; only a server that does not
/// answer stops the purge. A slot moved to another primary during the
/// purge may have some of its keys skipped: the next purge sees them.
pub(super) async fn purge_expired(
    connection: &Connection,
    namespace: &str,
    now: u64,
) -> Result<u64, StoreError> {
    let mut connection = connection.clone();
    let pattern = format!("{namespace}:{{*");
    let mut purged = 0;
    for target in connection.scan_targets().await.map_err(unavailable)? {
        let mut cursor: u64 = 0;
        loop {
            let (next, keys) = connection
                .scan(target, cursor, &pattern)
                .await
                .map_err(unavailable)?;
            for key in keys {
                purged += purge_key(&mut connection, key, now).await?;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    Ok(purged)
}

/// Purges one key if its time is over: 1 for a token record deleted, else 0.
async fn purge_key(connection: &mut Connection, key: String, now: u64) -> Result<u64, StoreError> {
    let deleted: Result<u64, redis::RedisError> = PURGE_KEY
        .key(&key)
        .arg(now)
        .arg(CLOCK_SKEW_MARGIN.as_secs())
        .invoke_async(connection)
        .await;
    match deleted {
        Ok(1) => Ok(1),
        Ok(_) => Ok(0),
        Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::ResponseError) => {
            tracing::warn!(
                target: "tower_simplejwt::store",
                key,
                %error,
                "a key under the token store's prefix could not be purged; skipped"
            );
            Ok(0)
        }
        Err(error) => Err(unavailable(error)),
    }
}
