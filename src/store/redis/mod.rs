//! A token store in Redis, shared by any number of server processes.
//!
//! Every rotation, logout and revocation is one Lua script, so it is atomic
//! on the server: two servers can never both rotate one token, and nothing
//! runs between a script's reads and its writes. Every script reads and
//! validates all it needs before its first write, so a failure (a corrupt
//! record, a bad argument) leaves no partial state.
//!
//! Keys of one subject share the hash tag `{<user id>}`, so every script
//! touches one slot and runs unchanged on Redis Cluster:
//!
//! - `simplejwt:{42}:t:<jti>`: a token (family, state, `exp`, keep-until, rotation time);
//! - `simplejwt:{42}:fam:<family>`: a family (revoked or not, keep-until);
//! - `simplejwt:{42}:families`: the subject's families, for "log out everywhere";
//! - `simplejwt:{42}:s:<jti>`: the successor of a used token, [sealed](super::seal)
//!   with that token, expiring (`EX`) when the grace window ends.
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
//! # Revocation against rotation
//!
//! A rotation script reads the family's key and refuses if it is revoked; a
//! revocation script marks it. Scripts do not interleave, so either the
//! revocation ran first (the rotation sees the mark) or the rotation did
//! (its successor is in the family the revocation then marks, and a token
//! of a revoked family is refused). The one gap outside a script is the
//! clock, read before the script is sent; it only measures the grace window.
//!
//! Redis must keep its data: a store that loses records brings rotated
//! tokens back as "never seen" (see [`accept_unrecorded_refresh_tokens`](crate::config::JwtConfig::accept_unrecorded_refresh_tokens)).
//! Run it with persistence (AOF) in production.
//!
//! Records of an earlier version (no family key, a `successor` field in
//! clear, a per-subject `all` index) keep working: a missing family is not
//! revoked and is created on the next rotation, [`TokenStore::revoke_subject`]
//! also walks the old index once and deletes it, and
//! [`TokenStore::purge_expired`] deletes the clear-text `successor` fields.
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
    warn_reuse, BlacklistOutcome, BoxFuture, Checkpoint, PauseHook, RecordedToken, Refusal,
    Rotation, RotationOutcome, StoreError, TokenState, TokenStore, CLOCK_SKEW_MARGIN,
    MAX_TIMESTAMP,
};
use crate::clock::SharedClock;

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
            .key(format!("{prefix}families"))
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

    /// Records `rotations` past rotations of one family of `subject` at once
    /// (pipelined), ending with `current` active (for benchmarks of
    /// revocation); returns the `jti` of the first past rotation.
    #[doc(hidden)]
    pub async fn record_rotated_family(
        &self,
        current: &RecordedToken,
        rotations: u64,
    ) -> Result<String, StoreError> {
        let base = u128::from(rand::random::<u64>()) << 64;
        self.record(current.clone()).await?;
        let prefix = self.prefix(&current.subject);
        let mut connection = self.connection.clone();
        let mut start = 0;
        while start < rotations {
            let end = (start + 10_000).min(rotations);
            let mut pipe = redis::pipe();
            for index in start..end {
                let key = format!("{prefix}t:{:032x}", base | u128::from(index));
                pipe.hset_multiple(
                    &key,
                    &[
                        ("family", current.jti.clone()),
                        ("state", "used".into()),
                        ("rotated_at", "0".into()),
                        ("expires_at", current.expires_at.to_string()),
                        ("keep_until", current.retained_until().to_string()),
                    ],
                )
                .ignore()
                .expire_at(&key, current.retained_until() as i64)
                .ignore();
            }
            pipe.query_async::<()>(&mut connection)
                .await
                .map_err(unavailable)?;
            start = end;
        }
        Ok(format!("{base:032x}"))
    }
}

/// A time a script stored: an integer, or a float ("1.8446744073709552e+19")
/// an earlier version wrote for a time beyond `u64`'s precision in Lua
/// (read as the integer it rounds to, saturating).
fn stored_time(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|time| time.is_finite() && *time >= 0.0)
            .map(|time| time as u64)
    })
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
            sealed_successor: text(1)?,
        }),
        "reused" => {
            warn_reuse(
                &presented.jti,
                &presented.subject,
                &text(1)?,
                text(2)? == "1",
            );
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
                sealed_successor,
                rules,
            } = rotation;
            let prefix = self.prefix(&presented.subject);
            let flag = |on: bool| if on { "1" } else { "0" };
            PauseHook::at(&self.pause, Checkpoint::Begun).await;
            let now = clock.now();
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
                .arg(now.min(MAX_TIMESTAMP))
                .arg(rules.reuse_grace.as_secs().min(MAX_TIMESTAMP))
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
    /// `now` by the caller's clock, and the clear-text `successor` fields of
    /// an earlier version, scanning the namespace (an administrative task,
    /// not for the hot path).
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let mut purged = 0;
            for kind in ["t", "fam"] {
                let pattern = format!("{}:{{*}}:{kind}:*", self.namespace);
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
                        let (keep_until, expires_at): (Option<String>, Option<String>) =
                            redis::cmd("HMGET")
                                .arg(&key)
                                .arg("keep_until")
                                .arg("expires_at")
                                .query_async(&mut connection)
                                .await
                                .map_err(unavailable)?;
                        let keep_until = keep_until.as_deref().and_then(stored_time);
                        let expires_at = expires_at.as_deref().and_then(stored_time);
                        let keep_until = keep_until.or_else(|| {
                            expires_at.map(|exp| exp.saturating_add(CLOCK_SKEW_MARGIN.as_secs()))
                        });
                        if keep_until.is_some_and(|keep_until| keep_until <= now) {
                            let deleted: u64 = connection.del(&key).await.map_err(unavailable)?;
                            if kind == "t" {
                                purged += deleted;
                            }
                        } else if kind == "t" {
                            let _: u64 = connection
                                .hdel(&key, "successor")
                                .await
                                .map_err(unavailable)?;
                        }
                    }
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
            }
            Ok(purged)
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
        let store = connect("simplejwt-conformance").await;
        crate::store::conformance::run(Arc::new(store)).await;
    }

    async fn connect(namespace: &str) -> RedisTokenStore {
        RedisTokenStore::connect_with_namespace(&redis_url(), namespace)
            .await
            .expect("Redis must be running on 127.0.0.1:6379 for the redis feature's tests")
    }

    /// Two connections, rotations of one held before their script while a
    /// revocation runs on the other, then released (the script itself cannot
    /// be interleaved); and the thief-and-victim race across two connections.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revocation_interleaved_with_rotation() {
        let store = connect("simplejwt-interleave").await;
        let other = connect("simplejwt-interleave").await;
        let paused = store.clone();
        crate::store::conformance::interleavings(
            Arc::new(other.clone()),
            |hook| Arc::new(paused.clone().with_pause_hook(hook)),
            &[],
            None,
        )
        .await;
        crate::store::conformance::thief_and_victim(Arc::new(store), Arc::new(other), 15).await;
    }

    fn now() -> u64 {
        crate::clock::Clock::now(&crate::clock::SystemClock)
    }

    #[tokio::test]
    async fn keys_of_a_subject_share_a_hash_tag_and_outlive_the_leeway() {
        let store = connect("simplejwt-keys").await;
        let subject = format!("user-{}", rand::random::<u32>());
        let exp = now() + 3600;
        let leeway = Duration::from_secs(120);
        let token = RecordedToken::new("j1", &subject, exp).with_leeway(leeway);
        store.record(token.clone()).await.unwrap();
        let mut connection = store.connection.clone();
        let keep_until = (exp + 120 + CLOCK_SKEW_MARGIN.as_secs()) as i64;
        for key in ["t:j1", "fam:j1", "families"] {
            let expire_time: i64 = redis::cmd("EXPIRETIME")
                .arg(format!("simplejwt-keys:{{{subject}}}:{key}"))
                .query_async(&mut connection)
                .await
                .unwrap();
            assert_eq!(
                expire_time, keep_until,
                "{key} is kept until exp + leeway + the clock-skew margin"
            );
        }
        // Logged out just past exp + margin (but within the leeway): still refused.
        assert_eq!(
            store.blacklist(token.clone()).await.unwrap(),
            BlacklistOutcome::Blacklisted
        );
        store
            .purge_expired(exp + CLOCK_SKEW_MARGIN.as_secs() + 60)
            .await
            .unwrap();
        assert_eq!(
            store.state(&subject, "j1").await.unwrap(),
            TokenState::Blacklisted
        );
    }

    #[tokio::test]
    async fn a_key_is_never_written_already_expired() {
        let store = connect("simplejwt-keys").await;
        let subject = format!("user-{}", rand::random::<u32>());
        // Redis's clock ahead of ours by more than the margin: keep-until is in its past.
        let exp = now() - CLOCK_SKEW_MARGIN.as_secs() - 10;
        store
            .record(RecordedToken::new("j1", &subject, exp))
            .await
            .unwrap();
        assert_eq!(
            store.state(&subject, "j1").await.unwrap(),
            TokenState::Active
        );
        let ttl: i64 = store
            .connection
            .clone()
            .ttl(format!("simplejwt-keys:{{{subject}}}:t:j1"))
            .await
            .unwrap();
        assert!(ttl > 0, "ttl {ttl}");
    }

    /// All keys of a subject and their contents.
    async fn dump(store: &RedisTokenStore, subject: &str) -> Vec<(String, Vec<String>)> {
        let mut connection = store.connection.clone();
        let mut keys: Vec<String> = connection
            .keys(format!("{}*", store.prefix(subject)))
            .await
            .unwrap();
        keys.sort();
        let mut dump = Vec::new();
        for key in keys {
            let kind: String = redis::cmd("TYPE")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .unwrap();
            let values: Vec<String> = match kind.as_str() {
                "hash" => {
                    let mut fields: Vec<(String, String)> = connection.hgetall(&key).await.unwrap();
                    fields.sort();
                    fields
                        .into_iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect()
                }
                "set" => {
                    let mut members: Vec<String> = connection.smembers(&key).await.unwrap();
                    members.sort();
                    members
                }
                _ => vec![connection.get(&key).await.unwrap()],
            };
            dump.push((key, values));
        }
        dump
    }

    /// Scripted failures: every script validates before its first write.
    #[tokio::test]
    async fn a_failed_rotation_leaves_no_partial_record() {
        let store = connect("simplejwt-partial").await;
        let subject = format!("user-{}", rand::random::<u32>());
        let prefix = store.prefix(&subject);
        let mut connection = store.connection.clone();
        let clock: SharedClock = Arc::new(crate::clock::ManualClock::new(now()));
        let exp = now() + 3600;
        let rotation = |presented: &str, successor: &str| Rotation {
            presented: RecordedToken::new(presented, &subject, exp),
            successor: RecordedToken::new(successor, &subject, exp),
            sealed_successor: Some("sealed".into()),
            rules: crate::store::RotationRules {
                reuse_grace: Duration::from_secs(10),
                ..Default::default()
            },
        };

        // A used record without its rotation time.
        let _: () = connection
            .hset_multiple(
                format!("{prefix}t:used"),
                &[("family", "used"), ("state", "used")],
            )
            .await
            .unwrap();
        // An active record whose family field is gone.
        let _: () = connection
            .hset(format!("{prefix}t:orphan"), "state", "active")
            .await
            .unwrap();
        // An active record whose successor jti is already taken.
        store
            .record(RecordedToken::new("taken", &subject, exp))
            .await
            .unwrap();
        store
            .record(RecordedToken::new("active", &subject, exp))
            .await
            .unwrap();
        let before = dump(&store, &subject).await;
        for (presented, successor) in [("used", "s1"), ("orphan", "s2"), ("active", "taken")] {
            let error = store
                .rotate(rotation(presented, successor), clock.clone())
                .await
                .unwrap_err();
            assert!(
                matches!(error, StoreError::Corrupt(_) | StoreError::Unavailable(_)),
                "{error:?}"
            );
            assert_eq!(
                dump(&store, &subject).await,
                before,
                "the failed rotation of {presented} wrote nothing"
            );
        }
        // A numeric argument that is not a number fails before any write too.
        let reply: Result<Vec<Value>, _> = ROTATE
            .key(format!("{prefix}t:active"))
            .key(format!("{prefix}t:s3"))
            .key(format!("{prefix}families"))
            .key(format!("{prefix}s:active"))
            .arg("active")
            .arg("s3")
            .arg("sealed")
            .arg(exp)
            .arg("not a number")
            .arg(exp)
            .arg(exp)
            .arg(now())
            .arg(10)
            .arg("1")
            .arg("1")
            .arg("1")
            .arg(&prefix)
            .invoke_async(&mut connection)
            .await;
        assert!(reply.is_err());
        assert_eq!(dump(&store, &subject).await, before);
    }

    /// What Redis holds after a rotation with a grace window, and after it: no
    /// value refreshes as a token, and the sealed successor expires with the window.
    #[tokio::test]
    async fn nothing_stored_is_a_usable_token() {
        let store = connect("simplejwt-at-rest").await;
        let subject = format!("user-{}", rand::random::<u32>());
        let clock = crate::clock::ManualClock::new(now());
        let shared: SharedClock = Arc::new(clock.clone());
        let exp = now() + 3600;
        let first = RecordedToken::new(format!("{:032x}", rand::random::<u128>()), &subject, exp);
        let second = RecordedToken::new(format!("{:032x}", rand::random::<u128>()), &subject, exp);
        store.record(first.clone()).await.unwrap();
        let (presented_token, successor_token) = ("first.raw.token", "second.raw.token");
        let sealed =
            crate::store::seal::seal(presented_token, &first.jti, successor_token).unwrap();
        let rules = crate::store::RotationRules {
            reuse_grace: Duration::from_secs(10),
            ..Default::default()
        };
        let outcome = store
            .rotate(
                Rotation {
                    presented: first.clone(),
                    successor: second.clone(),
                    sealed_successor: Some(sealed),
                    rules,
                },
                shared,
            )
            .await
            .unwrap();
        assert_eq!(outcome, RotationOutcome::Rotated);
        let stored = dump(&store, &subject).await;
        for (key, values) in &stored {
            for value in values {
                assert!(
                    !value.contains(successor_token) && !value.contains(presented_token),
                    "{key} holds a token in clear: {value}"
                );
            }
        }
        let ttl: i64 = store
            .connection
            .clone()
            .ttl(format!("{}s:{}", store.prefix(&subject), first.jti))
            .await
            .unwrap();
        assert!(
            (1..=10).contains(&ttl),
            "the sealed successor lives only as long as the window: ttl {ttl}"
        );
    }

    /// Records of the previous version (no family key): a replay of a used
    /// token after the window revokes the family, and the family outlives
    /// the replayed token's keep-until, so its later successor stays refused.
    #[tokio::test]
    async fn a_family_revoked_on_records_of_the_previous_version_stays_revoked() {
        let store = connect("simplejwt-old-family").await;
        let subject = format!("user-{}", rand::random::<u32>());
        let prefix = store.prefix(&subject);
        let mut connection = store.connection.clone();
        let start = now();
        let clock = crate::clock::ManualClock::new(start);
        let shared: SharedClock = Arc::new(clock.clone());
        let lifetime = 3600;
        // T1 (exp start + 1h) was rotated at start + 100 into T2 (exp start + 1h + 100).
        let (t1, t2) = ("old-t1", "old-t2");
        let t1_exp = start + lifetime;
        let t2_exp = start + 100 + lifetime;
        for (jti, exp, fields) in [
            (
                t1,
                t1_exp,
                vec![
                    ("state", "used".to_owned()),
                    ("rotated_at", (start + 100).to_string()),
                ],
            ),
            (t2, t2_exp, vec![("state", "active".to_owned())]),
        ] {
            let mut fields = fields;
            fields.push(("family", t1.to_owned()));
            fields.push(("expires_at", exp.to_string()));
            let key = format!("{prefix}t:{jti}");
            let _: () = connection.hset_multiple(&key, &fields).await.unwrap();
            let _: () = connection
                .expire_at(&key, (exp + CLOCK_SKEW_MARGIN.as_secs()) as i64)
                .await
                .unwrap();
        }
        // The thief replays T1 after the window.
        clock.set(start + 200);
        let presented = RecordedToken::new(t1, &subject, t1_exp);
        let successor = RecordedToken::new("old-t3", &subject, start + 200 + lifetime);
        let rules = crate::store::RotationRules {
            reuse_grace: Duration::from_secs(10),
            ..Default::default()
        };
        let outcome = store
            .rotate(
                Rotation {
                    presented: presented.clone(),
                    successor,
                    sealed_successor: None,
                    rules,
                },
                shared.clone(),
            )
            .await
            .unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
        assert_eq!(
            store.state(&subject, t2).await.unwrap(),
            TokenState::Blacklisted
        );
        // Past T1's keep-until (but before T2's): the family is still revoked.
        let past_t1 = presented.retained_until() + 1;
        clock.set(past_t1);
        store.purge_expired(past_t1).await.unwrap();
        let family_expiry: i64 = redis::cmd("EXPIRETIME")
            .arg(format!("{prefix}fam:{t1}"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(
            family_expiry > past_t1 as i64,
            "the family key outlives the replayed token: {family_expiry}"
        );
        assert_eq!(
            store.state(&subject, t2).await.unwrap(),
            TokenState::Blacklisted
        );
        let outcome = store
            .rotate(
                Rotation {
                    presented: RecordedToken::new(t2, &subject, t2_exp),
                    successor: RecordedToken::new("old-t4", &subject, past_t1 + lifetime),
                    sealed_successor: None,
                    rules,
                },
                shared,
            )
            .await
            .unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(Refusal::Blacklisted));
    }

    /// Logging out a token of the previous version (no family key) keeps the
    /// family as long as any token of it may live.
    #[tokio::test]
    async fn a_logout_on_records_of_the_previous_version_keeps_the_family() {
        let store = connect("simplejwt-old-family").await;
        let subject = format!("user-{}", rand::random::<u32>());
        let prefix = store.prefix(&subject);
        let mut connection = store.connection.clone();
        let start = now();
        let exp = start + 3600;
        let key = format!("{prefix}t:old-t1");
        let _: () = connection
            .hset_multiple(
                &key,
                &[
                    ("family", "old-t1".to_owned()),
                    ("state", "active".to_owned()),
                    ("expires_at", exp.to_string()),
                ],
            )
            .await
            .unwrap();
        let bound = exp + 7200;
        let token = RecordedToken::new("old-t1", &subject, exp).with_family_until(bound);
        assert_eq!(
            store.blacklist(token).await.unwrap(),
            BlacklistOutcome::Blacklisted
        );
        let family_expiry: i64 = redis::cmd("EXPIRETIME")
            .arg(format!("{prefix}fam:old-t1"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(family_expiry, bound as i64);
        let stored: String = connection
            .hget(format!("{prefix}fam:old-t1"), "keep_until")
            .await
            .unwrap();
        assert_eq!(stored, bound.to_string());
    }

    /// A huge refresh lifetime, leeway and grace window: the times are
    /// clamped to year 9999, the rotation writes consistent integers, and
    /// purging still reads them.
    #[tokio::test]
    async fn huge_expiries_are_clamped_before_any_write() {
        let store = connect("simplejwt-huge").await;
        let subject = format!("user-{}", rand::random::<u32>());
        let prefix = store.prefix(&subject);
        let mut connection = store.connection.clone();
        let clock: SharedClock = Arc::new(crate::clock::ManualClock::new(now()));
        let huge = Duration::from_secs(u64::MAX);
        let first = RecordedToken::new("huge-1", &subject, u64::MAX).with_leeway(huge);
        let second = RecordedToken::new("huge-2", &subject, u64::MAX)
            .with_leeway(huge)
            .with_family_until(u64::MAX);
        store.record(first.clone()).await.unwrap();
        let rules = crate::store::RotationRules {
            reuse_grace: huge,
            ..Default::default()
        };
        let outcome = store
            .rotate(
                Rotation {
                    presented: first,
                    successor: second.clone(),
                    sealed_successor: Some("sealed".into()),
                    rules,
                },
                clock,
            )
            .await
            .unwrap();
        assert_eq!(outcome, RotationOutcome::Rotated);
        let max = MAX_TIMESTAMP.to_string();
        for key in ["t:huge-1", "t:huge-2", "fam:huge-1"] {
            let keep_until: String = connection
                .hget(format!("{prefix}{key}"), "keep_until")
                .await
                .unwrap();
            assert_eq!(keep_until, max, "{key}");
            let expire_time: i64 = redis::cmd("EXPIRETIME")
                .arg(format!("{prefix}{key}"))
                .query_async(&mut connection)
                .await
                .unwrap();
            assert_eq!(expire_time, MAX_TIMESTAMP as i64, "{key}");
        }
        let expires_at: String = connection
            .hget(format!("{prefix}t:huge-2"), "expires_at")
            .await
            .unwrap();
        assert_eq!(expires_at, max);
        // A record an earlier version left with a float keep-until does not stop purging.
        let _: () = connection
            .hset_multiple(
                format!("{prefix}t:huge-float"),
                &[
                    ("family", "huge-float"),
                    ("state", "active"),
                    ("expires_at", "1.8446744073709552e+19"),
                    ("keep_until", "1.8446744073709552e+19"),
                ],
            )
            .await
            .unwrap();
        store.purge_expired(now()).await.unwrap();
        assert_eq!(
            store.state(&subject, "huge-2").await.unwrap(),
            TokenState::Active
        );
        assert_eq!(
            store.state(&subject, "huge-float").await.unwrap(),
            TokenState::Active
        );
        assert_eq!(
            store.blacklist(second).await.unwrap(),
            BlacklistOutcome::Blacklisted
        );
        // An out-of-range time sent to a script fails before any write.
        let before = dump(&store, &subject).await;
        let reply: Result<i64, _> = RECORD
            .key(format!("{prefix}t:huge-3"))
            .key(format!("{prefix}families"))
            .arg("huge-3")
            .arg(u64::MAX)
            .arg(u64::MAX)
            .arg(&prefix)
            .arg("record")
            .arg(u64::MAX)
            .invoke_async(&mut connection)
            .await;
        assert!(reply.is_err());
        assert_eq!(dump(&store, &subject).await, before);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        let error = RedisTokenStore::connect("redis://127.0.0.1:1/")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }
}
