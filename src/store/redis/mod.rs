//! A token store in Redis, shared by any number of server processes.
//!
//! Every rotation, logout and revocation is one Lua script, so it is atomic
//! on the server: two servers can never both rotate one token, and nothing
//! runs between a script's reads and its writes. Every script reads and
//! validates all it needs before its first write, so a failure (a corrupt
//! record, a bad argument) leaves no partial state.
//!
//! Keys of one subject share the hash tag `{<user id>}` (`{_}` for the empty
//! subject, whose empty tag would not be one), so every script touches one
//! slot and runs unchanged on Redis Cluster:
//!
//! - `simplejwt:{42}:t:<jti>`: a token (family, state, `exp`, keep-until, rotation time);
//! - `simplejwt:{42}:fam:<family>`: a family (revoked or not, keep-until);
//! - `simplejwt:{42}:families`: the subject's families, for "log out everywhere";
//! - `simplejwt:{42}:s:<jti>`: the successor of a used token, [sealed](super::seal)
//!   with that token, stored with the end of its grace window and expiring
//!   (`EX`) when the window ends.
//!
//! A token and its family expire at `exp + leeway +`
//! [`CLOCK_SKEW_MARGIN`] (`EXPIREAT`, by Redis's
//! clock: the margin covers a Redis clock that runs ahead of the servers'),
//! and never less than a minute after the script runs, so a key is never
//! written already expired. A revoked family is kept at least as long as any
//! token of it may live (the would-be successor's keep-until on reuse,
//! [`RecordedToken::family_until`] on logout), even when records of an
//! earlier version had no family key. Times are at most
//! [`MAX_TIMESTAMP`], checked by the scripts before their first write.
//!
//! # The clock of the grace window
//!
//! With the system clock ([`Clock::is_system_time`](crate::clock::Clock::is_system_time)),
//! the rotation script measures the grace window by the server's `TIME`,
//! read inside the script: one clock for every process, read inside the
//! atomic step, and the one by which the sealed successor's `EX` expires, so
//! the successor lives exactly the window. A clock injected for tests is
//! read before the script is sent and passed to it.
//!
//! # Revocation against rotation
//!
//! A rotation script reads the family's key and refuses if it is revoked; a
//! revocation script marks it. Scripts do not interleave, so either the
//! revocation ran first (the rotation sees the mark) or the rotation did
//! (its successor is in the family the revocation then marks, and a token
//! of a revoked family is refused).
//!
//! Redis must keep its data: a store that loses records brings rotated
//! tokens back as "never seen" (see [`accept_unrecorded_refresh_tokens`](crate::config::JwtConfig::accept_unrecorded_refresh_tokens)).
//! Run it with persistence (AOF) in production.
//!
//! Records of an earlier version (no family key, a `successor` field in
//! clear, a per-subject `all` index, a sealed successor without its window's
//! end) keep working: a missing family is not revoked and is created on the
//! next rotation, [`TokenStore::revoke_subject`] also walks the old index
//! once and deletes it, and [`TokenStore::purge_expired`] deletes the
//! clear-text `successor` fields.
//!
//! # Examples
//!
//! ```no_run
//! use tower_simplejwt::store::redis::RedisTokenStore;
//! use tower_simplejwt::store::{RecordedToken, TokenState, TokenStore};
//!
//! # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
//! let store = RedisTokenStore::connect("redis://127.0.0.1:6379/").await?;
//! store.record(RecordedToken::new("j1", "42", 1_900_000_000)).await?;
//! assert_eq!(store.state("42", "j1").await?, TokenState::Active);
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

#[cfg(doc)]
use super::CLOCK_SKEW_MARGIN;
use super::{
    BlacklistOutcome, BoxFuture, Checkpoint, PauseHook, RecordedToken, Rotation, RotationOutcome,
    StoreError, TokenState, TokenStore, MAX_TIMESTAMP,
};
use crate::clock::SharedClock;

mod fixtures;
mod keys;
mod purge;
mod reply;
#[cfg(test)]
mod tests;

static ROTATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("rotate.lua")));
static RECORD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("record.lua")));
static REVOKE_SUBJECT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("revoke_subject.lua")));
static STATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("state.lua")));

/// Refresh-token records in Redis. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisTokenStore {
    connection: ConnectionManager,
    namespace: Arc<str>,
    pause: Option<PauseHook>,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// A script's error reply (`ERR corrupt: …`) is bad data; anything else, an unavailable server.
fn unavailable(error: redis::RedisError) -> StoreError {
    let text = error.to_string();
    if text.contains("corrupt:") {
        StoreError::Corrupt(text)
    } else {
        StoreError::unavailable(error)
    }
}

impl RedisTokenStore {
    /// Connects to `url` (`redis://host:port/db`) with keys under `simplejwt:`.
    ///
    /// The connection reconnects on its own; while the server is away,
    /// commands fail within 2 seconds with [`StoreError::Unavailable`] (503).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
    /// let store = tower_simplejwt::store::redis::RedisTokenStore::connect("redis://127.0.0.1:6379/").await?;
    /// # drop(store);
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_namespace(url, "simplejwt").await
    }

    /// Like [`connect`](Self::connect), with keys under `namespace:` (to share a server between apps or tests).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tower_simplejwt::store::redis::RedisTokenStore;
    ///
    /// # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
    /// let store = RedisTokenStore::connect_with_namespace("redis://127.0.0.1:6379/", "myapp-jwt").await?;
    /// # drop(store);
    /// # Ok(()) }
    /// ```
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
            pause: None,
        })
    }

    /// The same store whose rotations await `hook` at each [`Checkpoint`] (for interleaving tests).
    #[doc(hidden)]
    pub fn with_pause_hook(mut self, hook: PauseHook) -> Self {
        self.pause = Some(hook);
        self
    }

    /// The key prefix of one subject's records, hash tag included.
    fn prefix(&self, subject: &str) -> String {
        keys::prefix(&self.namespace, subject)
    }

    async fn record_or_blacklist(
        &self,
        token: &RecordedToken,
        mode: &str,
    ) -> Result<i64, StoreError> {
        let prefix = self.prefix(&token.subject);
        RECORD
            .key(format!("{prefix}t:{}", token.jti))
            .key(format!("{prefix}families"))
            .key(format!("{prefix}s:{}", token.jti))
            .arg(&token.jti)
            .arg(token.stored_expires_at())
            .arg(token.retained_until())
            .arg(&prefix)
            .arg(mode)
            .arg(token.family_retained_until())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)
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
                sealed_successor,
                rules,
            } = rotation;
            let prefix = self.prefix(&presented.subject);
            let flag = |on: bool| if on { "1" } else { "0" };
            PauseHook::at(&self.pause, Checkpoint::Begun).await;
            // The system clock is read inside the script (the server's TIME);
            // an injected clock is read here.
            let now = if clock.is_system_time() {
                String::new()
            } else {
                clock.now().min(MAX_TIMESTAMP).to_string()
            };
            PauseHook::at(&self.pause, Checkpoint::FamilyLocked).await;
            let reply: Vec<Value> = ROTATE
                .key(format!("{prefix}t:{}", presented.jti))
                .key(format!("{prefix}t:{}", successor.jti))
                .key(format!("{prefix}families"))
                .key(format!("{prefix}s:{}", presented.jti))
                .arg(&presented.jti)
                .arg(&successor.jti)
                .arg(sealed_successor.as_deref().unwrap_or(""))
                .arg(presented.stored_expires_at())
                .arg(presented.retained_until())
                .arg(successor.stored_expires_at())
                .arg(successor.retained_until())
                .arg(now)
                .arg(rules.reuse_grace.as_secs().min(MAX_TIMESTAMP))
                .arg(flag(rules.revokes_family()))
                .arg(flag(rules.blacklist_after_rotation))
                .arg(flag(rules.accept_unrecorded))
                .arg(&prefix)
                .invoke_async(&mut self.connection.clone())
                .await
                .map_err(unavailable)?;
            reply::outcome(reply, &presented)
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
            let prefix = self.prefix(subject);
            let state: Option<String> = STATE
                .key(format!("{prefix}t:{jti}"))
                .arg(&prefix)
                .invoke_async(&mut self.connection.clone())
                .await
                .map_err(unavailable)?;
            TokenState::from_stored(state.as_deref())
        })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let prefix = self.prefix(subject);
            REVOKE_SUBJECT
                .key(format!("{prefix}families"))
                .key(format!("{prefix}all"))
                .arg(&prefix)
                .invoke_async(&mut self.connection.clone())
                .await
                .map_err(unavailable)
        })
    }

    /// Redis expires records on its own at their keep-until; this also
    /// deletes token and family records whose keep-until is at or before
    /// `now` by the caller's clock, sealed successors whose window ended by
    /// then, and the clear-text `successor` fields of an earlier version,
    /// scanning the namespace (an administrative task, not for the hot path).
    /// A foreign key under the prefix is skipped, never a reason to stop.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { purge::purge_expired(&self.connection, &self.namespace, now).await })
    }

    /// Nothing to do: Redis expires each sealed successor itself (`EX`) when
    /// its window ends, by the clock that measures the window (the server's).
    fn erase_ended_windows(&self, _now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async { Ok(0) })
    }
}
