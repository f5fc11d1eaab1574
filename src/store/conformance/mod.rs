//! The behaviour every [`TokenStore`] must have, as a runnable suite.
//!
//! Run it against your own backend in a test; it panics with a message
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

use super::{
    BlacklistOutcome, BoxFuture, Checkpoint, PauseHook, RecordedToken, Refusal, Rotation,
    RotationOutcome, RotationRules, TokenState, TokenStore, CLOCK_SKEW_MARGIN,
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
    logout_ends_the_grace_of_its_family(&*store).await;
    revoke_subject_ends_the_grace_of_its_families(&*store).await;
    purge(&*store).await;
    records_outlive_the_leeway(&*store).await;
    race(store.clone(), Duration::from_secs(60)).await;
    race(store.clone(), Duration::ZERO).await;
    thief_and_victim(store.clone(), store, 3).await;
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
            sealed_successor: sealed(&second)
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
            sealed_successor: sealed(&second)
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
    let margin = CLOCK_SKEW_MARGIN.as_secs();
    let expired = RecordedToken::new(random_hex(), subject.clone(), START - margin - 1);
    let at_edge = RecordedToken::new(random_hex(), subject.clone(), START - margin);
    let within_margin = RecordedToken::new(random_hex(), subject.clone(), START - 1);
    let live = token(&subject, &clock);
    for token in [&expired, &at_edge, &within_margin, &live] {
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
        "a record kept until now is purged"
    );
    assert_eq!(
        state(store, &within_margin).await,
        TokenState::Active,
        "a token just past exp is kept for the clock-skew margin"
    );
    assert_eq!(
        state(store, &live).await,
        TokenState::Active,
        "live tokens survive a purge"
    );
}

/// A logged-out token verified with a leeway is refused until `exp + leeway`
/// (plus the margin), even after its record would have expired without the leeway.
async fn records_outlive_the_leeway(store: &dyn TokenStore) {
    let (subject, _, _) = fresh();
    let leeway = Duration::from_secs(3_600);
    let exp = START - CLOCK_SKEW_MARGIN.as_secs() - 60;
    let logged_out = RecordedToken::new(random_hex(), subject.clone(), exp).with_leeway(leeway);
    store.record(logged_out.clone()).await.expect("record");
    assert_eq!(
        store.blacklist(logged_out.clone()).await.expect("logout"),
        BlacklistOutcome::Blacklisted
    );
    store.purge_expired(START).await.expect("purge");
    assert_eq!(
        state(store, &logged_out).await,
        TokenState::Blacklisted,
        "a logged-out token still within its leeway stays refused after a purge"
    );
    let clock = ManualClock::new(START);
    let shared: SharedClock = Arc::new(clock.clone());
    let outcome = store
        .rotate(
            rotation(
                &logged_out,
                &token(&subject, &clock),
                rules(0, ReusePolicy::RevokeFamily),
            ),
            shared,
        )
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "and it does not come back as never seen"
    );
    store
        .purge_expired(logged_out.retained_until())
        .await
        .expect("purge");
    assert_eq!(
        state(store, &logged_out).await,
        TokenState::Unknown,
        "the record goes once the leeway and the margin are over"
    );
}

/// Logging out the current token ends the grace window of its used
/// predecessors: a replay within the window no longer brings the session back.
async fn logout_ends_the_grace_of_its_family(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let grace = rules(60, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, grace), shared.clone())
        .await
        .expect("rotate");
    assert_eq!(
        store.blacklist(second.clone()).await.expect("logout"),
        BlacklistOutcome::Blacklisted
    );
    clock.advance(Duration::from_secs(1));
    let outcome = store
        .rotate(rotation(&first, &token(&subject, &clock), grace), shared)
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "a replay within the window after logout gets nothing"
    );
    assert_eq!(state(store, &first).await, TokenState::Blacklisted);
    assert_eq!(state(store, &second).await, TokenState::Blacklisted);
}

/// Revoking a subject ends the grace window of its families' used tokens.
async fn revoke_subject_ends_the_grace_of_its_families(store: &dyn TokenStore) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let grace = rules(60, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, grace), shared.clone())
        .await
        .expect("rotate");
    assert_eq!(store.revoke_subject(&subject).await.expect("revoke"), 1);
    let outcome = store
        .rotate(
            rotation(&first, &token(&subject, &clock), grace),
            shared.clone(),
        )
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "a replay within the window after revoke-all gets nothing"
    );
    let outcome = store
        .rotate(rotation(&second, &token(&subject, &clock), grace), shared)
        .await
        .expect("rotate");
    assert_eq!(outcome, RotationOutcome::Refused(Refusal::Blacklisted));
    assert_eq!(
        store.revoke_subject(&subject).await.expect("revoke"),
        0,
        "revoked once"
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
            sealed_successor: sealed(winner),
        };
        assert!(
            others.clone().all(|o| *o == expected),
            "every loser gets the winner's successor: {outcomes:?}"
        );
        assert_eq!(state(&*store, winner).await, TokenState::Active);
    }
}

/// The thief-and-victim race, `rounds` times: a thief rotates a stolen
/// token in a tight loop through `thief_store` while the victim replays the
/// original through `victim_store` (two handles on one backend: two pools,
/// two connections). Once the victim's replay is answered, no rotation of
/// the family may succeed, and the thief's latest token is refused.
pub async fn thief_and_victim(
    thief_store: Arc<dyn TokenStore>,
    victim_store: Arc<dyn TokenStore>,
    rounds: usize,
) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    for round in 0..rounds {
        let (subject, clock, shared) = fresh();
        let stolen = token(&subject, &clock);
        victim_store.record(stolen.clone()).await.expect("record");
        let strict = rules(0, ReusePolicy::RevokeFamily);
        let answered = Arc::new(AtomicBool::new(false));
        let rotations = Arc::new(AtomicUsize::new(0));
        let thief = {
            let (store, answered, rotations) =
                (thief_store.clone(), answered.clone(), rotations.clone());
            let (subject, clock, shared) = (subject.clone(), clock.clone(), shared.clone());
            let mut latest = stolen.clone();
            tokio::spawn(async move {
                let mut after_answer = Vec::new();
                for _ in 0..10_000 {
                    let started_after_answer = answered.load(Ordering::SeqCst);
                    let next = token(&subject, &clock);
                    let outcome = store
                        .rotate(rotation(&latest, &next, strict), shared.clone())
                        .await
                        .expect("thief rotate");
                    if outcome != RotationOutcome::Rotated {
                        break;
                    }
                    if started_after_answer {
                        after_answer.push(next.jti.clone());
                    }
                    rotations.fetch_add(1, Ordering::SeqCst);
                    latest = next;
                    tokio::task::yield_now().await;
                }
                (latest, after_answer)
            })
        };
        while rotations.load(Ordering::SeqCst) < 3 && !thief.is_finished() {
            tokio::task::yield_now().await;
        }
        let replay = victim_store
            .rotate(
                rotation(&stolen, &token(&subject, &clock), strict),
                shared.clone(),
            )
            .await
            .expect("victim replay");
        answered.store(true, Ordering::SeqCst);
        assert_eq!(
            replay,
            RotationOutcome::Refused(Refusal::Reused),
            "round {round}: the victim's replay is reuse"
        );
        let (latest, after_answer) = thief.await.expect("thief task");
        assert!(
            after_answer.is_empty(),
            "round {round}: {} rotations succeeded after the replay was answered",
            after_answer.len()
        );
        let outcome = victim_store
            .rotate(
                rotation(&latest, &token(&subject, &clock), strict),
                shared.clone(),
            )
            .await
            .expect("rotate");
        assert!(
            matches!(outcome, RotationOutcome::Refused(_)),
            "round {round}: the thief's latest token is refused: {outcome:?}"
        );
        assert_eq!(
            state(&*thief_store, &latest).await,
            TokenState::Blacklisted,
            "round {round}: the thief's latest token is blacklisted"
        );
    }
}

/// Whether the revocation of an interleaving waits for a lock the paused
/// rotation holds (PostgreSQL: its session in `pg_stat_activity`).
#[doc(hidden)]
pub type WaitProbe = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// The revocations an interleaving forces into a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Revocation {
    /// A replay of the used predecessor after the window: reuse revokes the family.
    Reuse,
    /// Logout of the very token being rotated.
    Logout,
    /// Log out everywhere.
    RevokeSubject,
}

/// A revocation interleaved with a rotation at each [`Checkpoint`]: the
/// rotation runs on `paused(hook)` (a handle on the same data whose
/// rotations await `hook`), is held at the checkpoint while the revocation
/// runs on `store`, then released. Whatever the order the backend imposes,
/// once the revocation is answered no rotation of the family succeeds and
/// the successor is refused. At the checkpoints in `waits_at` the backend
/// must make the revocation wait for the rotation (checked with `waiting`
/// when given, else by the revocation not finishing while the rotation is
/// held). A backend that never reaches a checkpoint (the memory store:
/// no await inside its lock) runs the rotation first, then the revocation.
#[doc(hidden)]
pub async fn interleavings(
    store: Arc<dyn TokenStore>,
    paused: impl Fn(PauseHook) -> Arc<dyn TokenStore>,
    waits_at: &[Checkpoint],
    waiting: Option<WaitProbe>,
) {
    for checkpoint in [
        Checkpoint::Begun,
        Checkpoint::FamilyLocked,
        Checkpoint::TokenLocked,
        Checkpoint::Written,
    ] {
        for revocation in [
            Revocation::Reuse,
            Revocation::Logout,
            Revocation::RevokeSubject,
        ] {
            interleave(
                &store,
                &paused,
                checkpoint,
                revocation,
                waits_at.contains(&checkpoint),
                waiting.clone(),
            )
            .await;
        }
    }
    for revocation in [
        Revocation::Reuse,
        Revocation::Logout,
        Revocation::RevokeSubject,
    ] {
        revocation_first(&*store, revocation).await;
    }
}

/// What a revocation answered, and whether it revoked the family.
async fn revoke(
    store: &dyn TokenStore,
    revocation: Revocation,
    predecessor: &RecordedToken,
    current: &RecordedToken,
    shared: SharedClock,
) -> bool {
    let clock = ManualClock::new(START);
    match revocation {
        Revocation::Reuse => {
            let outcome = store
                .rotate(
                    rotation(
                        predecessor,
                        &token(&predecessor.subject, &clock),
                        rules(0, ReusePolicy::RevokeFamily),
                    ),
                    shared,
                )
                .await
                .expect("replay");
            assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
            true
        }
        Revocation::Logout => {
            // Logout of a token rotated first is "already blacklisted" and
            // revokes nothing: the rotation won, and its successor lives.
            store.blacklist(current.clone()).await.expect("logout") == BlacklistOutcome::Blacklisted
        }
        Revocation::RevokeSubject => {
            assert_eq!(
                store
                    .revoke_subject(&current.subject)
                    .await
                    .expect("revoke"),
                1
            );
            true
        }
    }
}

/// After a revocation that revoked the family: nothing of it rotates.
async fn assert_family_dead(store: &dyn TokenStore, tokens: &[&RecordedToken], context: &str) {
    let clock = ManualClock::new(START);
    let shared: SharedClock = Arc::new(clock.clone());
    for token_of_family in tokens {
        let outcome = store
            .rotate(
                rotation(
                    token_of_family,
                    &token(&token_of_family.subject, &clock),
                    // A successor never recorded would start a new family in migration mode.
                    RotationRules {
                        accept_unrecorded: false,
                        ..rules(60, ReusePolicy::RevokeFamily)
                    },
                ),
                shared.clone(),
            )
            .await
            .expect("rotate");
        assert!(
            matches!(outcome, RotationOutcome::Refused(_)),
            "{context}: {} of the revoked family rotated: {outcome:?}",
            token_of_family.jti
        );
        let token_state = state(store, token_of_family).await;
        assert!(
            matches!(token_state, TokenState::Blacklisted | TokenState::Unknown),
            "{context}: {} of the revoked family is {token_state:?}",
            token_of_family.jti
        );
    }
}

async fn interleave(
    store: &Arc<dyn TokenStore>,
    paused: &impl Fn(PauseHook) -> Arc<dyn TokenStore>,
    checkpoint: Checkpoint,
    revocation: Revocation,
    must_wait: bool,
    waiting: Option<WaitProbe>,
) {
    use tokio::sync::oneshot;

    let context = format!("{revocation:?} at {checkpoint:?}");
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let strict = rules(0, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, strict), shared.clone())
        .await
        .expect("rotate");
    let third = token(&subject, &clock);

    let (reached_sender, mut reached) = oneshot::channel::<()>();
    let (release, released) = oneshot::channel::<()>();
    let hook_state = Arc::new(std::sync::Mutex::new(Some((reached_sender, released))));
    let hook = PauseHook::new(move |at| {
        let taken = if at == checkpoint {
            crate::lock::lock(&hook_state).take()
        } else {
            None
        };
        Box::pin(async move {
            if let Some((reached_sender, released)) = taken {
                let _ = reached_sender.send(());
                let _ = released.await;
            }
        })
    });
    let paused_store = paused(hook);
    let request = rotation(&second, &third, strict);
    let rotation_shared = shared.clone();
    let rotating = tokio::spawn(async move { paused_store.rotate(request, rotation_shared).await });
    let held = loop {
        match reached.try_recv() {
            Ok(()) => break true,
            Err(oneshot::error::TryRecvError::Closed) => break false,
            Err(oneshot::error::TryRecvError::Empty) if rotating.is_finished() => break false,
            Err(oneshot::error::TryRecvError::Empty) => tokio::task::yield_now().await,
        }
    };
    let revoking = {
        let (store, first, second, shared) =
            (store.clone(), first.clone(), second.clone(), shared.clone());
        tokio::spawn(async move { revoke(&*store, revocation, &first, &second, shared).await })
    };
    if held {
        for _ in 0..50 {
            if revoking.is_finished() {
                break;
            }
            if let Some(waiting) = &waiting {
                if waiting().await {
                    break;
                }
            }
            pause_briefly().await;
        }
        if must_wait {
            if let Some(waiting) = &waiting {
                assert!(
                    waiting().await,
                    "{context}: the revocation does not wait for the rotation's lock"
                );
            }
            assert!(
                !revoking.is_finished(),
                "{context}: the revocation finished while the rotation held its lock"
            );
        }
        let _ = release.send(());
    }
    let rotated = rotating.await.expect("rotation task").expect("rotate");
    let revoked_family = revoking.await.expect("revocation task");
    assert!(
        matches!(
            rotated,
            RotationOutcome::Rotated | RotationOutcome::Refused(Refusal::Blacklisted)
        ),
        "{context}: {rotated:?}"
    );
    if revoked_family {
        assert_family_dead(&**store, &[&first, &second, &third], &context).await;
    } else {
        assert_eq!(
            rotated,
            RotationOutcome::Rotated,
            "{context}: a logout that revoked nothing came after the rotation"
        );
        assert_eq!(
            state(&**store, &third).await,
            TokenState::Active,
            "{context}"
        );
    }
}

/// Gives a spawned task time to run into a lock (the library's tokio has no timer).
async fn pause_briefly() {
    let _ = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(10))).await;
}

/// The revocation answered before the rotation starts: the rotation is refused.
async fn revocation_first(store: &dyn TokenStore, revocation: Revocation) {
    let (subject, clock, shared) = fresh();
    let first = token(&subject, &clock);
    store.record(first.clone()).await.expect("record");
    let second = token(&subject, &clock);
    let strict = rules(0, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, strict), shared.clone())
        .await
        .expect("rotate");
    assert!(revoke(store, revocation, &first, &second, shared.clone()).await);
    let third = token(&subject, &clock);
    let outcome = store
        .rotate(rotation(&second, &third, strict), shared)
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "{revocation:?} first: the rotation is refused"
    );
    assert_family_dead(
        store,
        &[&first, &second, &third],
        &format!("{revocation:?} first"),
    )
    .await;
}
