//! The Redis store's own rules: keys, the server's clock, purging (the
//! conformance suite and the two-connection interleavings run it from
//! `tests/store_conformance.rs`).
use redis::AsyncCommands;

use super::*;
use crate::store::CLOCK_SKEW_MARGIN;

mod at_rest;
mod earlier_version;

/// The CI server; a missing server fails the test, it is not skipped.
pub(super) fn redis_url() -> String {
    std::env::var("TOWER_SIMPLEJWT_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

pub(super) async fn connect(namespace: &str) -> RedisTokenStore {
    RedisTokenStore::connect_with_namespace(&redis_url(), namespace)
        .await
        .expect("Redis must be running on 127.0.0.1:6379 for the redis feature's tests")
}

pub(super) fn now() -> u64 {
    crate::clock::Clock::now(&crate::clock::SystemClock)
}

/// All keys of a subject and their contents.
pub(super) async fn dump(store: &RedisTokenStore, subject: &str) -> Vec<(String, Vec<String>)> {
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

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let error = RedisTokenStore::connect("redis://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

/// A clock that says it is the system clock but stands at 0: the rotation
/// script must read the server's `TIME` instead.
#[derive(Debug)]
struct StoppedSystemClock;

impl crate::clock::Clock for StoppedSystemClock {
    fn now(&self) -> u64 {
        0
    }

    fn is_system_time(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn the_system_clock_is_read_inside_the_script() {
    let store = connect("simplejwt-time").await;
    let subject = format!("user-{}", rand::random::<u32>());
    let exp = now() + 3600;
    let first = RecordedToken::new("time-1", &subject, exp);
    store.record(first.clone()).await.unwrap();
    let rotation = Rotation {
        presented: first,
        successor: RecordedToken::new("time-2", &subject, exp),
        sealed_successor: Some("sealed".into()),
        rules: crate::store::RotationRules {
            reuse_grace: Duration::from_secs(30),
            ..Default::default()
        },
    };
    let before = now();
    let outcome = store
        .rotate(rotation.clone(), Arc::new(StoppedSystemClock))
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Rotated);
    let rotated_at: u64 = store
        .connection
        .clone()
        .hget(format!("{}t:time-1", store.prefix(&subject)), "rotated_at")
        .await
        .unwrap();
    assert!(
        rotated_at >= before && rotated_at <= now(),
        "rotated at the server's time, not the clock's 0: {rotated_at}"
    );
    let replay = store
        .rotate(
            Rotation {
                successor: RecordedToken::new("time-3", &subject, exp),
                ..rotation
            },
            Arc::new(StoppedSystemClock),
        )
        .await
        .unwrap();
    assert_eq!(
        replay,
        RotationOutcome::Replayed {
            sealed_successor: "sealed".into()
        },
        "the window is measured by the server's clock too"
    );
}

/// The empty subject: its keys share a non-empty tag, and every operation works.
#[tokio::test]
async fn the_empty_subject_has_keys_of_its_own() {
    let store = connect(&format!("simplejwt-empty-{}", rand::random::<u32>())).await;
    let clock: SharedClock = Arc::new(crate::clock::ManualClock::new(now()));
    let exp = now() + 3600;
    let first = RecordedToken::new("empty-1", "", exp);
    store.record(first.clone()).await.unwrap();
    let rotation = Rotation {
        presented: first.clone(),
        successor: RecordedToken::new("empty-2", "", exp),
        sealed_successor: None,
        rules: crate::store::RotationRules::default(),
    };
    assert_eq!(
        store.rotate(rotation, clock).await.unwrap(),
        RotationOutcome::Rotated
    );
    assert_eq!(
        store.state("", "empty-2").await.unwrap(),
        TokenState::Active
    );
    assert_eq!(
        store.state("_", "empty-2").await.unwrap(),
        TokenState::Unknown,
        "not the subject \"_\""
    );
    let keys: Vec<String> = store
        .connection
        .clone()
        .keys(format!("{}:*", store.namespace))
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for key in &keys {
        assert_eq!(keys::hash_tag(key), "_", "{key}");
    }
    assert_eq!(store.revoke_subject("").await.unwrap(), 1);
    assert_eq!(
        store.state("", "empty-2").await.unwrap(),
        TokenState::Blacklisted
    );
    store.purge_expired(first.retained_until()).await.unwrap();
    assert_eq!(
        store.state("", "empty-1").await.unwrap(),
        TokenState::Unknown
    );
}

/// Keys of other types under the prefix (not ours) do not stop a purge.
#[tokio::test]
async fn a_foreign_key_does_not_abort_purging() {
    let store = connect(&format!("simplejwt-foreign-{}", rand::random::<u32>())).await;
    let subject = format!("user-{}", rand::random::<u32>());
    let prefix = store.prefix(&subject);
    let mut connection = store.connection.clone();
    let _: () = connection
        .set(format!("{prefix}t:foreign"), "x")
        .await
        .unwrap();
    let _: () = connection
        .rpush(format!("{prefix}fam:foreign"), "x")
        .await
        .unwrap();
    let _: () = connection
        .set(format!("{prefix}s:foreign"), "not a window")
        .await
        .unwrap();
    let _: () = connection
        .hset(format!("{prefix}other"), "field", "x")
        .await
        .unwrap();
    let expired = RecordedToken::new("expired", &subject, now() + 10);
    store.record(expired.clone()).await.unwrap();
    assert_eq!(
        store.purge_expired(expired.retained_until()).await.unwrap(),
        1
    );
    assert_eq!(
        store.state(&subject, "expired").await.unwrap(),
        TokenState::Unknown
    );
    for key in ["t:foreign", "fam:foreign", "s:foreign", "other"] {
        let exists: bool = connection.exists(format!("{prefix}{key}")).await.unwrap();
        assert!(exists, "the foreign {key} is left alone");
    }
}
