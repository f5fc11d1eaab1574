//! The behaviour every [`TokenStore`] must have, as a runnable suite.
//!
//! Run it against your own backend in a test; it panics with a message
//! naming the broken rule. It uses fresh random subjects, so it can share a
//! database with other data, and needs a multi-threaded tokio runtime for
//! its race.
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

use super::{
    BlacklistOutcome, RecordedToken, Refusal, Rotation, RotationOutcome, RotationRules, TokenState,
    TokenStore,
};
use crate::clock::{Clock, ManualClock, SharedClock};
use crate::config::ReusePolicy;

const START: u64 = 1_800_000_000;
const LIFETIME: u64 = 604_800;

/// Runs every check against `store`.
pub async fn run(store: Arc<dyn TokenStore>) {
    rotation_chain(&*store).await;
    blacklist_after_rotation_off(&*store).await;
    replay_within_grace(&*store).await;
    grace_boundary(&*store).await;
    reuse_revokes_family(&*store).await;
    reuse_blacklist_only(&*store).await;
    unrecorded_tokens(&*store).await;
    logout(&*store).await;
    revoke_subject(&*store).await;
    purge(&*store).await;
    race(store.clone(), Duration::from_secs(60)).await;
    race(store, Duration::ZERO).await;
}

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

fn rotation(
    presented: &RecordedToken,
    successor: &RecordedToken,
    rules: RotationRules,
) -> Rotation {
    Rotation {
        presented: presented.clone(),
        successor: successor.clone(),
        successor_token: format!("token-{}", successor.jti),
        rules,
    }
}

async fn state(store: &dyn TokenStore, token: &RecordedToken) -> TokenState {
    store
        .state(&token.subject, &token.jti)
        .await
        .expect("state")
}

async fn rotation_chain(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    assert_eq!(
        state(store, &first).await,
        TokenState::Active,
        "a recorded token is active"
    );
    let second = token(&subject, &clock);
    let outcome = store
        .rotate(
            rotation(&first, &second, rules(0, ReusePolicy::RevokeFamily)),
            shared.clone(),
        )
        .await;
    assert_eq!(
        outcome.expect("rotate"),
        RotationOutcome::Rotated,
        "an active token rotates"
    );
    assert_eq!(
        state(store, &first).await,
        TokenState::Used,
        "the rotated token is used"
    );
    assert_eq!(
        state(store, &second).await,
        TokenState::Active,
        "the successor is active"
    );
    clock.advance(Duration::from_secs(10));
    let third = token(&subject, &clock);
    let outcome = store
        .rotate(
            rotation(&second, &third, rules(0, ReusePolicy::RevokeFamily)),
            shared,
        )
        .await;
    assert_eq!(
        outcome.expect("rotate"),
        RotationOutcome::Rotated,
        "the successor rotates in turn"
    );
}

async fn blacklist_after_rotation_off(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let keep = RotationRules {
        blacklist_after_rotation: false,
        ..rules(0, ReusePolicy::RevokeFamily)
    };
    for _ in 0..2 {
        let next = token(&subject, &clock);
        let outcome = store
            .rotate(rotation(&first, &next, keep), shared.clone())
            .await
            .expect("rotate");
        assert_eq!(
            outcome,
            RotationOutcome::Rotated,
            "without blacklisting, a token rotates again and again"
        );
    }
    assert_eq!(state(store, &first).await, TokenState::Active);
}

async fn replay_within_grace(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let grace = rules(10, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, grace), shared.clone())
        .await
        .expect("rotate");
    clock.advance(Duration::from_secs(9));
    let other = token(&subject, &clock);
    let outcome = store
        .rotate(rotation(&first, &other, grace), shared.clone())
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Replayed {
            successor_token: format!("token-{}", second.jti)
        },
        "a replay within the window gets the same successor"
    );
    assert_eq!(
        state(store, &other).await,
        TokenState::Unknown,
        "a replay records nothing new"
    );
    // The successor rotates on; a replay of the first still gets its own successor.
    let third = token(&subject, &clock);
    store
        .rotate(rotation(&second, &third, grace), shared.clone())
        .await
        .expect("rotate");
    let outcome = store
        .rotate(rotation(&first, &other, grace), shared)
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Replayed {
            successor_token: format!("token-{}", second.jti)
        },
        "a replay gets the token's own successor even after that one rotated"
    );
}

async fn grace_boundary(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let grace = rules(10, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, grace), shared.clone())
        .await
        .expect("rotate");
    clock.advance(Duration::from_secs(10));
    let outcome = store
        .rotate(rotation(&first, &token(&subject, &clock), grace), shared)
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Reused),
        "an age equal to the window is reuse"
    );
}

async fn reuse_revokes_family(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let strict = rules(0, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, strict), shared.clone())
        .await
        .expect("rotate");
    let outcome = store
        .rotate(
            rotation(&first, &token(&subject, &clock), strict),
            shared.clone(),
        )
        .await
        .expect("reuse");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Reused),
        "a replay with window 0 is reuse"
    );
    assert_eq!(
        state(store, &second).await,
        TokenState::Blacklisted,
        "reuse revokes the successor"
    );
    let outcome = store
        .rotate(rotation(&second, &token(&subject, &clock), strict), shared)
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "a revoked successor is refused"
    );
}

async fn reuse_blacklist_only(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let lenient = rules(0, ReusePolicy::BlacklistOnly);
    store
        .rotate(rotation(&first, &second, lenient), shared.clone())
        .await
        .expect("rotate");
    let outcome = store
        .rotate(
            rotation(&first, &token(&subject, &clock), lenient),
            shared.clone(),
        )
        .await
        .expect("reuse");
    assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
    assert_eq!(
        state(store, &second).await,
        TokenState::Active,
        "blacklist-only keeps the successor"
    );
    let outcome = store
        .rotate(rotation(&second, &token(&subject, &clock), lenient), shared)
        .await
        .expect("rotate");
    assert_eq!(outcome, RotationOutcome::Rotated);
}

async fn unrecorded_tokens(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let foreign = token(&subject, &clock);
    let successor = token(&subject, &clock);
    let refuse = RotationRules {
        accept_unrecorded: false,
        ..rules(0, ReusePolicy::RevokeFamily)
    };
    let outcome = store
        .rotate(rotation(&foreign, &successor, refuse), shared.clone())
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Unrecorded),
        "unrecorded tokens can be refused"
    );
    assert_eq!(state(store, &successor).await, TokenState::Unknown);
    let outcome = store
        .rotate(
            rotation(&foreign, &successor, rules(0, ReusePolicy::RevokeFamily)),
            shared.clone(),
        )
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotationOutcome::Rotated,
        "an unrecorded token starts a family"
    );
    assert_eq!(state(store, &foreign).await, TokenState::Used);
    let outcome = store
        .rotate(
            rotation(
                &foreign,
                &token(&subject, &clock),
                rules(0, ReusePolicy::RevokeFamily),
            ),
            shared,
        )
        .await
        .expect("reuse");
    assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
    assert_eq!(
        state(store, &successor).await,
        TokenState::Blacklisted,
        "the new family is revoked on reuse"
    );
}

async fn logout(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    assert_eq!(
        store.blacklist(first.clone()).await.expect("blacklist"),
        BlacklistOutcome::Blacklisted
    );
    assert_eq!(
        store.blacklist(first.clone()).await.expect("blacklist"),
        BlacklistOutcome::AlreadyBlacklisted
    );
    assert_eq!(state(store, &first).await, TokenState::Blacklisted);
    let outcome = store
        .rotate(
            rotation(
                &first,
                &token(&subject, &clock),
                rules(60, ReusePolicy::RevokeFamily),
            ),
            shared.clone(),
        )
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "a logged-out token does not rotate"
    );
    let unrecorded = token(&subject, &clock);
    assert_eq!(
        store
            .blacklist(unrecorded.clone())
            .await
            .expect("blacklist"),
        BlacklistOutcome::Blacklisted
    );
    assert_eq!(
        state(store, &unrecorded).await,
        TokenState::Blacklisted,
        "an unrecorded token can be logged out"
    );
    let used = token(&subject, &clock);
    store.record(used.clone()).await.expect("record");
    store
        .rotate(
            rotation(
                &used,
                &token(&subject, &clock),
                rules(0, ReusePolicy::RevokeFamily),
            ),
            shared,
        )
        .await
        .expect("rotate");
    assert_eq!(
        store.blacklist(used).await.expect("blacklist"),
        BlacklistOutcome::AlreadyBlacklisted,
        "a rotated token is already blacklisted"
    );
}

async fn revoke_subject(store: &dyn TokenStore) {
    let (subject, clock, _) = fresh();
    let (other_subject, _, _) = fresh();
    let tokens: Vec<_> = (0..3).map(|_| token(&subject, &clock)).collect();
    for token in &tokens {
        store.record(token.clone()).await.expect("record");
    }
    let bystander = token(&other_subject, &clock);
    store.record(bystander.clone()).await.expect("record");
    assert_eq!(store.revoke_subject(&subject).await.expect("revoke"), 3);
    for token in &tokens {
        assert_eq!(
            state(store, token).await,
            TokenState::Blacklisted,
            "log out everywhere"
        );
    }
    assert_eq!(
        state(store, &bystander).await,
        TokenState::Active,
        "other subjects are untouched"
    );
}

async fn purge(store: &dyn TokenStore) {
    let (subject, clock, _) = fresh();
    let expired = RecordedToken::new(random_hex(), subject.clone(), START - 1);
    let at_edge = RecordedToken::new(random_hex(), subject.clone(), START);
    let live = token(&subject, &clock);
    for token in [&expired, &at_edge, &live] {
        store.record(token.clone()).await.expect("record");
    }
    let purged = store.purge_expired(START).await.expect("purge");
    assert!(
        purged >= 2,
        "purge removed {purged} records, expected at least 2"
    );
    assert_eq!(state(store, &expired).await, TokenState::Unknown);
    assert_eq!(
        state(store, &at_edge).await,
        TokenState::Unknown,
        "a token expiring now is purged"
    );
    assert_eq!(
        state(store, &live).await,
        TokenState::Active,
        "live tokens survive a purge"
    );
}

/// 64 concurrent rotations of one token: one successor, no second family.
async fn race(store: Arc<dyn TokenStore>, grace: Duration) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let rules = RotationRules {
        reuse_grace: grace,
        ..rules(0, ReusePolicy::RevokeFamily)
    };
    let mut tasks = Vec::new();
    let mut successors = Vec::new();
    for _ in 0..64 {
        let successor = token(&subject, &clock);
        successors.push(successor.clone());
        let request = rotation(&first, &successor, rules);
        let (store, shared) = (store.clone(), shared.clone());
        tasks.push(tokio::spawn(
            async move { store.rotate(request, shared).await },
        ));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").expect("rotate"));
    }
    let rotated: Vec<_> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| **o == RotationOutcome::Rotated)
        .collect();
    assert_eq!(
        rotated.len(),
        1,
        "exactly one of 64 concurrent rotations wins: {outcomes:?}"
    );
    let winner = &successors[rotated[0].0];
    let mut recorded = 0;
    for successor in &successors {
        if state(&*store, successor).await != TokenState::Unknown {
            recorded += 1;
        }
    }
    assert_eq!(recorded, 1, "only the winning successor is recorded");
    let others = outcomes.iter().filter(|o| **o != RotationOutcome::Rotated);
    if grace.is_zero() {
        assert!(
            others
                .clone()
                .all(|o| *o == RotationOutcome::Refused(Refusal::Reused)
                    || *o == RotationOutcome::Refused(Refusal::Blacklisted)),
            "{outcomes:?}"
        );
        assert_eq!(
            state(&*store, winner).await,
            TokenState::Blacklisted,
            "reuse in the race revokes the family"
        );
    } else {
        let expected = RotationOutcome::Replayed {
            successor_token: format!("token-{}", winner.jti),
        };
        assert!(
            others.clone().all(|o| *o == expected),
            "every loser gets the winner's successor: {outcomes:?}"
        );
        assert_eq!(state(&*store, winner).await, TokenState::Active);
    }
}
