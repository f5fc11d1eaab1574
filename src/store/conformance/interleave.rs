//! A revocation forced into each step of a rotation.

use std::sync::Arc;
use std::time::Duration;

use super::{recorded_family, rotation, rules, state, token, START};
use crate::clock::{ManualClock, SharedClock};
use crate::config::ReusePolicy;
use crate::store::{
    BlacklistOutcome, BoxFuture, Checkpoint, PauseHook, RecordedToken, Refusal, RotationOutcome,
    RotationRules, TokenState, TokenStore,
};

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

/// Runs a revocation, checking its answer; each of them revokes the family,
/// whether it came before or after the rotation.
async fn revoke(
    store: &dyn TokenStore,
    revocation: Revocation,
    predecessor: &RecordedToken,
    current: &RecordedToken,
    shared: SharedClock,
) {
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
        }
        Revocation::Logout => {
            // Logout of a token rotated first is "already blacklisted", and
            // still revokes the family: the rotation's successor dies too.
            let outcome = store.blacklist(current.clone()).await.expect("logout");
            assert!(
                matches!(
                    outcome,
                    BlacklistOutcome::Blacklisted | BlacklistOutcome::AlreadyBlacklisted
                ),
                "{outcome:?}"
            );
        }
        Revocation::RevokeSubject => {
            assert_eq!(
                store
                    .revoke_subject(&current.subject)
                    .await
                    .expect("revoke"),
                1
            );
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
    let (subject, clock, shared, first) = recorded_family(store.as_ref()).await;
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
    revoking.await.expect("revocation task");
    assert!(
        matches!(
            rotated,
            RotationOutcome::Rotated | RotationOutcome::Refused(Refusal::Blacklisted)
        ),
        "{context}: {rotated:?}"
    );
    assert_family_dead(&**store, &[&first, &second, &third], &context).await;
}

/// Gives a spawned task time to run into a lock (the library's tokio has no timer).
async fn pause_briefly() {
    let _ = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(10))).await;
}

/// The revocation answered before the rotation starts: the rotation is refused.
async fn revocation_first(store: &dyn TokenStore, revocation: Revocation) {
    let (subject, clock, shared, first) = recorded_family(store).await;
    let second = token(&subject, &clock);
    let strict = rules(0, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, strict), shared.clone())
        .await
        .expect("rotate");
    revoke(store, revocation, &first, &second, shared.clone()).await;
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
