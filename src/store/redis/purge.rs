//! Purging expired records and ended grace windows by scanning the namespace.

use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use redis::{ErrorKind, Script, ServerErrorKind};

use super::unavailable;
use crate::store::{StoreError, CLOCK_SKEW_MARGIN};

static PURGE_KEY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("purge_key.lua")));

/// Scans every key under `namespace:{`, purging each one whose time is over
/// at `now` (one script per key: atomic, and one slot on Redis Cluster);
/// returns how many token records were deleted.
///
/// A key the script cannot handle (a foreign key under the prefix that
/// makes it fail) is skipped with a warning; only a server that does not
/// answer stops the purge.
pub(super) async fn purge_expired(
    connection: &ConnectionManager,
    namespace: &str,
    now: u64,
) -> Result<u64, StoreError> {
    let mut connection = connection.clone();
    let pattern = format!("{namespace}:{{*");
    let margin = CLOCK_SKEW_MARGIN.as_secs();
    let mut purged = 0;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        for key in keys {
            let deleted: Result<u64, redis::RedisError> = PURGE_KEY
                .key(&key)
                .arg(now)
                .arg(margin)
                .invoke_async(&mut connection)
                .await;
            match deleted {
                Ok(1) => purged += 1,
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::ResponseError) => {
                    tracing::warn!(
                        target: "tower_simplejwt::store",
                        key,
                        %error,
                        "a key under the token store's prefix could not be purged; skipped"
                    );
                }
                Err(error) => return Err(unavailable(error)),
            }
        }
        if next == 0 {
            return Ok(purged);
        }
        cursor = next;
    }
}
