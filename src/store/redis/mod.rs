//! A token store in Redis, shared by any number of server processes.
//!
//! Every rotation is one Lua script, so it is atomic on the server: two
//! servers can never both rotate one token. Each record expires with its
//! token (`EXPIREAT exp`), so nothing leaks. All keys of one subject share the
//! hash tag `{<user id>}` (`simplejwt:{42}:t:<jti>`, `simplejwt:{42}:f:<family>`,
//! `simplejwt:{42}:all`), so every script touches one slot and runs
//! unchanged on Redis Cluster.
//!
//! The reuse grace window is measured with the clock given to
//! [`TokenStore::rotate`], read just before the script is sent: the script
//! itself is atomic, so no other rotation can interleave with its reads and
//! writes.
//!
//! Redis must keep its data: a store that loses records brings rotated
//! tokens back as "never seen" (see [`accept_unrecorded_refresh_tokens`](crate::config::JwtConfig::accept_unrecorded_refresh_tokens)).
//! Run it with persistence (AOF) in production.
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use tower_simplejwt::store::redis::RedisTokenStore;
//!
//! # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
//! let store = RedisTokenStore::connect("redis://127.0.0.1:6379/").await?;
//! tower_simplejwt::store::conformance::run(Arc::new(store)).await;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script, Value};

use super::{
    warn_reuse, BlacklistOutcome, BoxFuture, RecordedToken, Refusal, Rotation, RotationOutcome,
    StoreError, TokenState, TokenStore,
};
use crate::clock::SharedClock;

static ROTATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("rotate.lua")));
static RECORD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("record.lua")));
static REVOKE_SUBJECT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("revoke_subject.lua")));

/// Refresh-token records in Redis. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisTokenStore {
    connection: ConnectionManager,
    namespace: Arc<str>,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::unavailable(error)
}

impl RedisTokenStore {
    /// Connects to `url` (`redis://host:port/db`) with keys under `simplejwt:`.
    ///
    /// The connection reconnects on its own; while the server is away,
    /// commands fail within 2 seconds with [`StoreError::Unavailable`] (503).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_namespace(url, "simplejwt").await
    }

    /// Like [`connect`](Self::connect), with keys under `namespace:` (to share a server between apps or tests).
    pub async fn connect_with_namespace(url: &str, namespace: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(unavailable)?;
        Ok(RedisTokenStore {
            connection,
            namespace: namespace.into(),
        })
    }

    /// The key prefix of one subject's records, hash tag included.
    fn prefix(&self, subject: &str) -> String {
        format!("{}:{{{subject}}}:", self.namespace)
    }

    async fn record_or_blacklist(
        &self,
        token: &RecordedToken,
        mode: &str,
    ) -> Result<i64, StoreError> {
        let prefix = self.prefix(&token.subject);
        RECORD
            .key(format!("{prefix}t:{}", token.jti))
            .key(format!("{prefix}all"))
            .arg(&token.jti)
            .arg(token.expires_at)
            .arg(&prefix)
            .arg(mode)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)
    }
}

/// Reads the rotation script's reply.
fn outcome(reply: Vec<Value>, presented: &RecordedToken) -> Result<RotationOutcome, StoreError> {
    let text = |index: usize| -> Result<String, StoreError> {
        match reply.get(index) {
            Some(Value::BulkString(bytes)) => Ok(String::from_utf8_lossy(bytes).into_owned()),
            Some(Value::SimpleString(text)) => Ok(text.clone()),
            other => Err(StoreError::Corrupt(format!(
                "unexpected rotation reply part {other:?}"
            ))),
        }
    };
    match text(0)?.as_str() {
        "rotated" => Ok(RotationOutcome::Rotated),
        "replayed" => Ok(RotationOutcome::Replayed {
            successor_token: text(1)?,
        }),
        "reused" => {
            let revoked = text(2)?.parse().unwrap_or(0);
            warn_reuse(&presented.jti, &presented.subject, &text(1)?, revoked);
            Ok(RotationOutcome::Refused(Refusal::Reused))
        }
        "refused" => match text(1)?.as_str() {
            "unrecorded" => Ok(RotationOutcome::Refused(Refusal::Unrecorded)),
            _ => Ok(RotationOutcome::Refused(Refusal::Blacklisted)),
        },
        other => Err(StoreError::Corrupt(format!(
            "unexpected rotation reply {other:?}"
        ))),
    }
}

impl TokenStore for RedisTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.record_or_blacklist(&token, "record").await.map(drop) })
    }

    fn rotate(
        &self,
        rotation: Rotation,
        clock: SharedClock,
    ) -> BoxFuture<'_, Result<RotationOutcome, StoreError>> {
        Box::pin(async move {
            let Rotation {
                presented,
                successor,
                successor_token,
                rules,
            } = rotation;
            let prefix = self.prefix(&presented.subject);
            let flag = |on: bool| if on { "1" } else { "0" };
            let now = clock.now();
            let reply: Vec<Value> = ROTATE
                .key(format!("{prefix}t:{}", presented.jti))
                .key(format!("{prefix}t:{}", successor.jti))
                .key(format!("{prefix}all"))
                .arg(&presented.jti)
                .arg(&successor.jti)
                .arg(&successor_token)
                .arg(presented.expires_at)
                .arg(successor.expires_at)
                .arg(now)
                .arg(rules.reuse_grace.as_secs())
                .arg(flag(
                    rules.reuse_policy == crate::config::ReusePolicy::RevokeFamily,
                ))
                .arg(flag(rules.blacklist_after_rotation))
                .arg(flag(rules.accept_unrecorded))
                .arg(&prefix)
                .invoke_async(&mut self.connection.clone())
                .await
                .map_err(unavailable)?;
            outcome(reply, &presented)
        })
    }

    fn blacklist(
        &self,
        token: RecordedToken,
    ) -> BoxFuture<'_, Result<BlacklistOutcome, StoreError>> {
        Box::pin(async move {
            Ok(match self.record_or_blacklist(&token, "blacklist").await? {
                1 => BlacklistOutcome::Blacklisted,
                _ => BlacklistOutcome::AlreadyBlacklisted,
            })
        })
    }

    fn state<'a>(
        &'a self,
        subject: &'a str,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<TokenState, StoreError>> {
        Box::pin(async move {
            let key = format!("{}t:{jti}", self.prefix(subject));
            let state: Option<String> = self
                .connection
                .clone()
                .hget(key, "state")
                .await
                .map_err(unavailable)?;
            TokenState::from_stored(state.as_deref())
        })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let prefix = self.prefix(subject);
            REVOKE_SUBJECT
                .key(format!("{prefix}all"))
                .arg(&prefix)
                .invoke_async(&mut self.connection.clone())
                .await
                .map_err(unavailable)
        })
    }

    /// Redis expires records on its own at their token's `exp`; this also
    /// deletes records whose `exp` is at or before `now` by the caller's
    /// clock, scanning the namespace (an administrative task, not for the hot path).
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let pattern = format!("{}:{{*}}:t:*", self.namespace);
            let mut cursor: u64 = 0;
            let mut purged = 0;
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
                    let expires_at: Option<u64> = connection
                        .hget(&key, "expires_at")
                        .await
                        .map_err(unavailable)?;
                    if expires_at.is_some_and(|expires_at| expires_at <= now) {
                        let deleted: u64 = connection.del(&key).await.map_err(unavailable)?;
                        purged += deleted;
                    }
                }
                if next == 0 {
                    return Ok(purged);
                }
                cursor = next;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CI server; a missing server fails the test, it is not skipped.
    fn redis_url() -> String {
        std::env::var("TOWER_SIMPLEJWT_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance() {
        let store = RedisTokenStore::connect_with_namespace(&redis_url(), "simplejwt-conformance")
            .await
            .expect("Redis must be running on 127.0.0.1:6379 for the redis feature's tests");
        crate::store::conformance::run(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn keys_of_a_subject_share_a_hash_tag_and_expire() {
        let store = RedisTokenStore::connect_with_namespace(&redis_url(), "simplejwt-keys")
            .await
            .unwrap();
        let subject = format!("user-{}", rand::random::<u32>());
        let exp = crate::clock::Clock::now(&crate::clock::SystemClock) + 3600;
        store
            .record(RecordedToken::new("j1", &subject, exp))
            .await
            .unwrap();
        let mut connection = store.connection.clone();
        let key = format!("simplejwt-keys:{{{subject}}}:t:j1");
        let ttl: i64 = connection.ttl(&key).await.unwrap();
        assert!(
            (3500..=3600).contains(&ttl),
            "the record expires with the token: ttl {ttl}"
        );
        let expire_time: i64 = redis::cmd("EXPIRETIME")
            .arg(format!("simplejwt-keys:{{{subject}}}:all"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(
            expire_time, exp as i64,
            "the subject index lives as long as its longest token"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        let error = RedisTokenStore::connect("redis://127.0.0.1:1/")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }
}
