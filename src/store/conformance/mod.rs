//! The behaviour every [`TokenStore`] must have, as a runnable suite
//! (behind the `conformance` feature).
//!
//! Run it against your own backend in a test (enable the feature in your
//! `[dev-dependencies]`); it panics with a message
//! naming the broken rule. It uses fresh random subjects, so it can share a
//! database with other data, and needs a multi-threaded tokio runtime for
//! its races. [`thief_and_victim`] also takes two handles on one backend
//! (two pools, two connections): pass two to prove the race across them.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use tower_simplejwt::store::{conformance, MemoryTokenStore};
//!
//! # tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap().block_on(async {
//! conformance::run(Arc::new(MemoryTokenStore::new())).await;
//! # });
//! ```

use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;

use super::{RecordedToken, Rotation, RotationRules, TokenState, TokenStore};
use crate::clock::{Clock, ManualClock, SharedClock};
use crate::config::ReusePolicy;

mod interleave;
mod lifecycle;
mod purge;
mod race;
mod revocation;

pub use interleave::{interleavings, WaitProbe};
pub use race::thief_and_victim;

/// Runs every check against `store`.
pub async fn run(store: Arc<dyn TokenStore>) {
    lifecycle::rotation_chain(&*store).await;
    lifecycle::blacklist_after_rotation_off(&*store).await;
    lifecycle::replay_within_grace(&*store).await;
    lifecycle::grace_boundary(&*store).await;
    lifecycle::reuse_revokes_family(&*store).await;
    lifecycle::reuse_blacklist_only(&*store).await;
    lifecycle::unrecorded_tokens(&*store).await;
    revocation::logout(&*store).await;
    revocation::logout_with_a_rotated_token_revokes_its_family(&*store).await;
    revocation::revoke_subject(&*store).await;
    revocation::logout_ends_the_grace_of_its_family(&*store).await;
    revocation::revoke_subject_ends_the_grace_of_its_families(&*store).await;
    purge::purge(&*store).await;
    purge::records_outlive_the_leeway(&*store).await;
    purge::ended_windows_are_erased(&*store).await;
    race::race(store.clone(), Duration::from_secs(60)).await;
    race::race(store.clone(), Duration::ZERO).await;
    thief_and_victim(store.clone(), store, 3).await;
}

const START: u64 = 1_800_000_000;
const LIFETIME: u64 = 604_800;

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A fresh subject and a clock at the suite's start time.
fn fresh() -> (String, ManualClock, SharedClock) {
    let clock = ManualClock::new(START);
    let shared: SharedClock = Arc::new(clock.clone());
    (format!("conformance-{}", random_hex()), clock, shared)
}

/// A fresh family in `store`: its subject, the clock (and the same clock
/// shared), and its first token, recorded.
async fn recorded_family(
    store: &dyn TokenStore,
) -> (String, ManualClock, SharedClock, RecordedToken) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    (subject, clock, shared, first)
}

fn token(subject: &str, clock: &ManualClock) -> RecordedToken {
    RecordedToken::new(random_hex(), subject, clock.now() + LIFETIME)
}

fn rules(grace: u64, policy: ReusePolicy) -> RotationRules {
    RotationRules {
        reuse_grace: Duration::from_secs(grace),
        reuse_policy: policy,
        blacklist_after_rotation: true,
        accept_unrecorded: true,
    }
}

/// What the suite hands the store as a sealed successor (opaque to it).
fn sealed(successor: &RecordedToken) -> String {
    format!("sealed-{}", successor.jti)
}

fn rotation(
    presented: &RecordedToken,
    successor: &RecordedToken,
    rules: RotationRules,
) -> Rotation {
    Rotation {
        presented: presented.clone(),
        successor: successor.clone(),
        sealed_successor: Some(sealed(successor)),
        rules,
    }
}

async fn state(store: &dyn TokenStore, token: &RecordedToken) -> TokenState {
    store
        .state(&token.subject, &token.jti)
        .await
        .expect("state")
}
