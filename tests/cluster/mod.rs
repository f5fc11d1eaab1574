//! The local Redis Cluster of `.ci/services.sh` (three primaries on
//! 127.0.0.1:7000-7002, or the comma-separated node URLs of
//! `TOWER_SIMPLEJWT_REDIS_CLUSTER`), seen through the store and node by node.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Value};
use tower_simplejwt::clock::{Clock, ManualClock, SharedClock, SystemClock};
use tower_simplejwt::store::redis::RedisTokenStore;
use tower_simplejwt::store::{
    BlacklistOutcome, RecordedToken, Refusal, Rotation, RotationOutcome, RotationRules, TokenState,
    TokenStore,
};

/// The node URLs: `TOWER_SIMPLEJWT_REDIS_CLUSTER` (comma-separated) or the CI cluster.
pub fn node_urls() -> Vec<String> {
    std::env::var("TOWER_SIMPLEJWT_REDIS_CLUSTER")
        .unwrap_or_else(|_| {
            "redis://127.0.0.1:7000/,redis://127.0.0.1:7001/,redis://127.0.0.1:7002/".into()
        })
        .split(',')
        .map(str::to_owned)
        .collect()
}

pub const MISSING: &str =
    "the Redis Cluster must be running on 127.0.0.1:7000-7002 (.ci/services.sh)";

pub async fn connect(namespace: &str) -> RedisTokenStore {
    RedisTokenStore::connect_cluster_with_namespace(node_urls(), namespace)
        .await
        .expect(MISSING)
}

/// A namespace of this run only.
pub fn namespace(purpose: &str) -> String {
    format!("simplejwt-{purpose}-{:08x}", rand::random::<u32>())
}

/// A plain connection to one node, not through the cluster client: it sees
/// (and runs commands on) that node alone.
pub async fn node(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect(MISSING)
}

/// A primary of the cluster: its URL and the slot ranges it serves.
#[derive(Debug)]
pub struct Primary {
    pub url: String,
    pub ranges: Vec<(u16, u16)>,
}

impl Primary {
    pub fn serves(&self, slot: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(first, last)| (first..=last).contains(&slot))
    }
}

/// The primaries, from `CLUSTER SLOTS` asked of the first node.
pub async fn primaries() -> Vec<Primary> {
    let mut connection = node(&node_urls()[0]).await;
    let ranges: Vec<Vec<Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(&mut connection)
        .await
        .unwrap();
    let mut primaries: Vec<Primary> = Vec::new();
    for range in ranges {
        let first: u16 = redis::from_redis_value_ref(&range[0]).unwrap();
        let last: u16 = redis::from_redis_value_ref(&range[1]).unwrap();
        let primary: Vec<Value> = redis::from_redis_value_ref(&range[2]).unwrap();
        let host: String = redis::from_redis_value_ref(&primary[0]).unwrap();
        let port: u16 = redis::from_redis_value_ref(&primary[1]).unwrap();
        let url = format!("redis://{host}:{port}/");
        match primaries.iter_mut().find(|known| known.url == url) {
            Some(known) => known.ranges.push((first, last)),
            None => primaries.push(Primary {
                url,
                ranges: vec![(first, last)],
            }),
        }
    }
    primaries.sort_by(|a, b| a.url.cmp(&b.url));
    primaries
}

/// A subject whose keys under `namespace` hash to a slot of `primary`.
pub async fn subject_on(primary: &Primary, namespace: &str) -> String {
    let mut connection = node(&primary.url).await;
    for attempt in 0..10_000 {
        let subject = format!("user-{attempt}-{:04x}", rand::random::<u16>());
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(format!("{namespace}:{{{subject}}}:t:any"))
            .query_async(&mut connection)
            .await
            .unwrap();
        if primary.serves(slot) {
            return subject;
        }
    }
    panic!("no subject found for {}", primary.url);
}

/// The keys under `namespace` that `primary` holds itself.
pub async fn keys_on(primary: &Primary, namespace: &str, kind: &str) -> Vec<String> {
    let mut keys: Vec<String> = node(&primary.url)
        .await
        .keys(format!("{namespace}:{{*}}:{kind}*"))
        .await
        .unwrap();
    keys.sort();
    keys
}

/// The hash tag of a key: the text between its first `{` and the next `}`.
pub fn tag(key: &str) -> &str {
    let open = key.find('{').unwrap();
    let close = key[open..].find('}').unwrap();
    &key[open + 1..open + close]
}

/// Every operation on one subject: record, rotate, replay within the
/// grace window, logout, a refused rotation, a new login, logout
/// everywhere. Returns how many token records it wrote.
pub async fn lifecycle(store: &RedisTokenStore, subject: &str) -> u64 {
    let now = SystemClock.now();
    let clock: SharedClock = Arc::new(ManualClock::new(now));
    let exp = now + 3600;
    let rules = RotationRules {
        reuse_grace: Duration::from_secs(10),
        ..RotationRules::default()
    };
    let first = RecordedToken::new(format!("{subject}-1"), subject, exp);
    let second = RecordedToken::new(format!("{subject}-2"), subject, exp);
    store.record(first.clone()).await.unwrap();
    let rotation = Rotation {
        presented: first.clone(),
        successor: second.clone(),
        sealed_successor: Some(format!("sealed-{subject}")),
        rules,
    };
    assert_eq!(
        store.rotate(rotation.clone(), clock.clone()).await.unwrap(),
        RotationOutcome::Rotated,
        "{subject}"
    );
    assert_eq!(
        store.rotate(rotation, clock.clone()).await.unwrap(),
        RotationOutcome::Replayed {
            sealed_successor: format!("sealed-{subject}")
        },
        "{subject}: a replay within the window"
    );
    assert_eq!(
        store.state(subject, &second.jti).await.unwrap(),
        TokenState::Active
    );
    assert_eq!(
        store.blacklist(second.clone()).await.unwrap(),
        BlacklistOutcome::Blacklisted
    );
    let after_logout = Rotation {
        presented: second,
        successor: RecordedToken::new(format!("{subject}-x"), subject, exp),
        sealed_successor: None,
        rules,
    };
    assert_eq!(
        store.rotate(after_logout, clock).await.unwrap(),
        RotationOutcome::Refused(Refusal::Blacklisted),
        "{subject}: a logged-out token"
    );
    let third = RecordedToken::new(format!("{subject}-3"), subject, exp);
    store.record(third.clone()).await.unwrap();
    assert_eq!(
        store.revoke_subject(subject).await.unwrap(),
        1,
        "{subject}: the new login's family"
    );
    assert_eq!(
        store.state(subject, &third.jti).await.unwrap(),
        TokenState::Blacklisted
    );
    3
}
