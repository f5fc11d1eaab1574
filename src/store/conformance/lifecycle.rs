//! Rotation, replay within the grace window, reuse, unrecorded tokens.

use std::time::Duration;

use super::{fresh, recorded_family, rotation, rules, sealed, state, token};
use crate::config::ReusePolicy;
use crate::store::{Refusal, RotationOutcome, RotationRules, TokenState, TokenStore};

pub(super) async fn rotation_chain(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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

pub(super) async fn blacklist_after_rotation_off(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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

pub(super) async fn replay_within_grace(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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

pub(super) async fn grace_boundary(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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

pub(super) async fn reuse_revokes_family(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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

pub(super) async fn reuse_blacklist_only(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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

pub(super) async fn unrecorded_tokens(store: &dyn TokenStore) {
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
