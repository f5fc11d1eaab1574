//! A Redis Cluster whose primaries stop answering (`CLIENT PAUSE`): a
//! command fails as unavailable (503) within the store's 2-second timeout,
//! it neither hangs nor answers "not blacklisted", and the store answers
//! again once the primaries are back. A test binary of its own: the pause
//! would stall other cluster tests running beside it.
#![cfg(feature = "redis-cluster")]

use std::time::{Duration, Instant};

use tower_simplejwt::clock::{Clock, SystemClock};
use tower_simplejwt::store::redis::RedisTokenStore;
use tower_simplejwt::store::{RecordedToken, StoreError, TokenState, TokenStore};

const MISSING: &str = "the Redis Cluster must be running on 127.0.0.1:7000-7002 (.ci/services.sh)";
const PAUSE: Duration = Duration::from_secs(4);

fn node_urls() -> Vec<String> {
    std::env::var("TOWER_SIMPLEJWT_REDIS_CLUSTER")
        .unwrap_or_else(|_| {
            "redis://127.0.0.1:7000/,redis://127.0.0.1:7001/,redis://127.0.0.1:7002/".into()
        })
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// The URLs of the cluster's primaries, from `CLUSTER NODES`.
async fn primaries() -> Vec<String> {
    let mut connection = redis::Client::open(node_urls()[0].as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect(MISSING);
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut connection)
        .await
        .unwrap();
    nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let address = fields.get(1)?.split('@').next()?;
            fields
                .get(2)?
                .split(',')
                .any(|flag| flag == "master")
                .then(|| format!("redis://{address}/"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_primaries_are_unavailable_then_answer_again() {
    let namespace = format!("simplejwt-cluster-outage-{:08x}", rand::random::<u32>());
    let store = RedisTokenStore::connect_cluster_with_namespace(node_urls(), &namespace)
        .await
        .expect(MISSING);
    let token = RecordedToken::new("outage-1", "outage", SystemClock.now() + 3600);
    store.record(token.clone()).await.unwrap();
    let primaries = primaries().await;
    assert!(primaries.len() >= 3, "{primaries:?}");
    for primary in &primaries {
        let mut connection = redis::Client::open(primary.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect(MISSING);
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(PAUSE.as_millis() as u64)
            .arg("ALL")
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    let paused = Instant::now();
    let answer = store.state(&token.subject, &token.jti).await;
    assert!(
        matches!(answer, Err(StoreError::Unavailable(_))),
        "a paused primary is unavailable: {answer:?}"
    );
    assert!(
        paused.elapsed() < PAUSE,
        "the store gives up before the pause ends: {:?}",
        paused.elapsed()
    );
    let deadline = Instant::now() + PAUSE + Duration::from_secs(10);
    loop {
        match store.state(&token.subject, &token.jti).await {
            Ok(state) => {
                assert_eq!(state, TokenState::Active);
                break;
            }
            Err(error) => assert!(
                Instant::now() < deadline,
                "the store answers again after the pause: {error:?}"
            ),
        }
    }
}
