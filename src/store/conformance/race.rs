//! Concurrent rotations of one token, and the thief-and-victim race.

use std::sync::Arc;
use std::time::Duration;

use super::{fresh, recorded_family, rotation, rules, sealed, state, token};
use crate::config::ReusePolicy;
use crate::store::{Refusal, RotationOutcome, RotationRules, TokenState, TokenStore};

/// 64 concurrent rotations of one token: one successor, no second family.
pub(super) async fn race(store: Arc<dyn TokenStore>, grace: Duration) {
    let (subject, clock, shared, first) = recorded_family(&*store).await;
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
