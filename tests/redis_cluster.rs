//! The Redis store on the local Redis Cluster of `.ci/services.sh` (three
//! primaries on 127.0.0.1:7000-7002; feature `redis-cluster`): subjects
//! whose keys land on every primary all work, a purge covers every primary,
//! a primary that lost its scripts gets them again, and the example server
//! runs on the cluster. A missing cluster fails the tests, it is not
//! skipped. Each test writes under a namespace of its own run.
#![cfg(feature = "redis-cluster")]

mod process;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Value};
use serde_json::json;
use tower_simplejwt::clock::{Clock, ManualClock, SharedClock, SystemClock};
use tower_simplejwt::store::redis::RedisTokenStore;
use tower_simplejwt::store::{
    BlacklistOutcome, RecordedToken, Refusal, Rotation, RotationOutcome, RotationRules, StoreError,
    TokenState, TokenStore, CLOCK_SKEW_MARGIN,
};

/// The node URLs: `TOWER_SIMPLEJWT_REDIS_CLUSTER` (comma-separated) or the CI cluster.
fn node_urls() -> Vec<String> {
    std::env::var("TOWER_SIMPLEJWT_REDIS_CLUSTER")
        .unwrap_or_else(|_| {
            "redis://127.0.0.1:7000/,redis://127.0.0.1:7001/,redis://127.0.0.1:7002/".into()
        })
        .split(',')
        .map(str::to_owned)
        .collect()
}

const MISSING: &str = "the Redis Cluster must be running on 127.0.0.1:7000-7002 (.ci/services.sh)";

async fn connect(namespace: &str) -> RedisTokenStore {
    RedisTokenStore::connect_cluster_with_namespace(node_urls(), namespace)
        .await
        .expect(MISSING)
}

/// A namespace of this run only.
fn namespace(purpose: &str) -> String {
    format!("simplejwt-{purpose}-{:08x}", rand::random::<u32>())
}

/// A plain connection to one node, not through the cluster client: it sees
/// (and runs commands on) that node alone.
async fn node(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect(MISSING)
}

/// A primary of the cluster: its URL and the slot ranges it serves.
#[derive(Debug)]
struct Primary {
    url: String,
    ranges: Vec<(u16, u16)>,
}

impl Primary {
    fn serves(&self, slot: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(first, last)| (first..=last).contains(&slot))
    }
}

/// The primaries, from `CLUSTER SLOTS` asked of the first node.
async fn primaries() -> Vec<Primary> {
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
async fn subject_on(primary: &Primary, namespace: &str) -> String {
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
async fn keys_on(primary: &Primary, namespace: &str, kind: &str) -> Vec<String> {
    let mut keys: Vec<String> = node(&primary.url)
        .await
        .keys(format!("{namespace}:{{*}}:{kind}*"))
        .await
        .unwrap();
    keys.sort();
    keys
}

/// The hash tag of a key: the text between its first `{` and the next `}`.
fn tag(key: &str) -> &str {
    let open = key.find('{').unwrap();
    let close = key[open..].find('}').unwrap();
    &key[open + 1..open + close]
}

/// Every operation on one subject: record, rotate, replay within the
/// grace window, logout, a refused rotation, a new login, logout
/// everywhere. Returns how many token records it wrote.
async fn lifecycle(store: &RedisTokenStore, subject: &str) -> u64 {
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

/// One subject per primary: each works, its keys all live on its primary,
/// and one purge removes the expired records of every primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_on_every_primary_and_purge_covers_them_all() {
    let primaries = primaries().await;
    assert!(
        primaries.len() >= 3,
        "the test cluster has three primaries: {primaries:?}"
    );
    let namespace = namespace("cluster-spread");
    let store = connect(&namespace).await;
    let mut subjects = Vec::new();
    let mut records = 0;
    for primary in &primaries {
        let subject = subject_on(primary, &namespace).await;
        records += lifecycle(&store, &subject).await;
        subjects.push(subject);
    }
    for (primary, subject) in primaries.iter().zip(&subjects) {
        let keys = keys_on(primary, &namespace, "").await;
        let tags: BTreeSet<&str> = keys.iter().map(|key| tag(key)).collect();
        assert_eq!(
            tags,
            BTreeSet::from([subject.as_str()]),
            "{} holds the keys of its own subject only: {keys:?}",
            primary.url
        );
        assert!(
            keys.iter().any(|key| key.contains(":t:"))
                && keys.iter().any(|key| key.contains(":fam:")),
            "{}: {keys:?}",
            primary.url
        );
    }

    let now = SystemClock.now();
    assert_eq!(
        store.purge_expired(now).await.unwrap(),
        0,
        "nothing is expired yet"
    );
    let past_everything = now + 3600 + CLOCK_SKEW_MARGIN.as_secs() + 60;
    assert_eq!(
        store.purge_expired(past_everything).await.unwrap(),
        records,
        "every token record of every primary is purged"
    );
    for primary in &primaries {
        for kind in ["t:", "fam:", "s:"] {
            assert_eq!(
                keys_on(primary, &namespace, kind).await,
                Vec::<String>::new(),
                "{}: no {kind} key is left",
                primary.url
            );
        }
    }
    for subject in &subjects {
        assert_eq!(
            store.state(subject, &format!("{subject}-3")).await.unwrap(),
            TokenState::Unknown
        );
    }
}

/// A primary that lost its script cache (a restart, `SCRIPT FLUSH`) gets
/// the scripts again on the next command for one of its slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_that_lost_its_scripts_gets_them_again() {
    let namespace = namespace("cluster-noscript");
    let store = connect(&namespace).await;
    let scripts = [
        include_str!("../src/store/redis/record.lua"),
        include_str!("../src/store/redis/rotate.lua"),
        include_str!("../src/store/redis/state.lua"),
        include_str!("../src/store/redis/revoke_subject.lua"),
    ]
    .map(|source| redis::Script::new(source).get_hash().to_owned());
    for primary in primaries().await {
        let subject = subject_on(&primary, &namespace).await;
        let mut connection = node(&primary.url).await;
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut connection)
            .await
            .unwrap();
        let cached: Vec<bool> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(&scripts)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(cached, [false; 4], "{}: flushed", primary.url);
        lifecycle(&store, &subject).await;
        let cached: Vec<bool> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(&scripts)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(cached, [true; 4], "{}: loaded again", primary.url);
    }
}

#[tokio::test]
async fn an_unreachable_cluster_is_unavailable() {
    let error = RedisTokenStore::connect_cluster(["redis://127.0.0.1:1/"])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let error = RedisTokenStore::connect_cluster(Vec::<String>::new())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

/// The example server with `--token-store redis+cluster://…`: log in,
/// refresh (rotation), log out, and the logged-out token is refused.
#[test]
fn the_example_server_runs_on_the_cluster() {
    use process::{create_user, free_address, post, serve, temp_dir};

    let dir = temp_dir("redis-cluster");
    let users = format!("sqlite://{}", dir.join("users.sqlite3").display());
    create_user(&dir, "alice", "wonderland-42", Some(&users));
    let address = free_address();
    let _server = serve(
        &dir,
        address,
        &[
            "--database",
            &users,
            "--token-store",
            "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002/",
        ],
    );
    let login = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(login.status, 200, "{login:?}");
    let first = login.body["refresh"].as_str().unwrap().to_owned();
    let refreshed = post(address, "/api/token/refresh/", &json!({"refresh": first}));
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    assert!(refreshed.body["access"].is_string(), "{refreshed:?}");
    let second = refreshed.body["refresh"].as_str().unwrap().to_owned();
    assert_ne!(second, first, "rotated");
    let logout = post(
        address,
        "/api/token/blacklist/",
        &json!({"refresh": second}),
    );
    assert_eq!(logout.status, 200, "{logout:?}");
    let refused = post(address, "/api/token/refresh/", &json!({"refresh": second}));
    assert_eq!(
        (refused.status, refused.body),
        (
            401,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        )
    );
    std::fs::remove_dir_all(dir).unwrap();
}
