//! The Redis store on the local Redis Cluster of `.ci/services.sh` (three
//! primaries on 127.0.0.1:7000-7002; feature `redis-cluster`): subjects
//! whose keys land on every primary all work, a purge covers every primary,
//! and the example server runs on the cluster. A missing cluster fails the
//! tests, it is not skipped. Each test writes under a namespace of its own
//! run. Tests that act on the nodes themselves (a flushed script cache, a
//! pause) are in `redis_cluster_nodes.rs`.
#![cfg(feature = "redis-cluster")]

mod cluster;
mod process;

use std::collections::BTreeSet;

use serde_json::json;
use tower_simplejwt::clock::{Clock, SystemClock};
use tower_simplejwt::store::redis::RedisTokenStore;
use tower_simplejwt::store::{StoreError, TokenState, TokenStore, CLOCK_SKEW_MARGIN};

use cluster::{connect, keys_on, lifecycle, namespace, primaries, subject_on, tag};

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
/// refresh (rotation), log out, and the logged-out token is refused; its
/// `purge` subcommand runs on the cluster too.
#[test]
fn the_example_server_runs_on_the_cluster() {
    use process::{create_user, free_address, post, run, serve, temp_dir};
    const CLUSTER: &str = "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002/";

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
            CLUSTER,
            "--purge-every",
            "0",
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
    let purge = run(
        &dir,
        &["purge", "--database", &users, "--token-store", CLUSTER],
        "",
    );
    assert!(
        purge.status.success() && String::from_utf8_lossy(&purge.stdout).starts_with("purged "),
        "the purge subcommand scans the cluster: {purge:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
