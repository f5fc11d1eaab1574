//! The Redis store on the local Redis Cluster while its nodes are acted
//! on: a primary that lost its script cache gets the scripts again, and
//! primaries that stop answering (`CLIENT PAUSE`) make a command fail as
//! unavailable (503) within the store's 2-second timeout, neither hanging
//! nor answering "not blacklisted", until they are back. A test binary of
//! its own, its tests one at a time: a flush or a pause would disturb the
//! other cluster tests running beside it.
#![cfg(feature = "redis-cluster")]

mod cluster;

use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use tower_simplejwt::clock::{Clock, SystemClock};
use tower_simplejwt::store::{RecordedToken, StoreError, TokenState, TokenStore};

use cluster::{connect, lifecycle, namespace, node, primaries, subject_on};

/// Held by each test: one acts on the nodes at a time.
static NODES: Mutex<()> = Mutex::const_new(());

const PAUSE: Duration = Duration::from_secs(4);

/// A primary that lost its script cache (a restart, `SCRIPT FLUSH`) gets
/// the scripts again on the next command for one of its slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_that_lost_its_scripts_gets_them_again() {
    let _alone = NODES.lock().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_primaries_are_unavailable_then_answer_again() {
    let _alone = NODES.lock().await;
    let store = connect(&namespace("cluster-outage")).await;
    let token = RecordedToken::new("outage-1", "outage", SystemClock.now() + 3600);
    store.record(token.clone()).await.unwrap();
    let primaries = primaries().await;
    assert!(primaries.len() >= 3, "{primaries:?}");
    for primary in &primaries {
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(PAUSE.as_millis() as u64)
            .arg("ALL")
            .query_async(&mut node(&primary.url).await)
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
