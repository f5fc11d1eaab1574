//! Logout and revocation of a subject, and the grace windows they end.

use std::time::Duration;

use super::{fresh, recorded_family, rotation, rules, state, token};
use crate::config::ReusePolicy;
use crate::store::{BlacklistOutcome, Refusal, RotationOutcome, TokenState, TokenStore};

pub(super) async fn logout(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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

/// Tab A rotates; tab B logs out with the token A has just rotated: the
/// logout answers "already blacklisted" yet revokes the family, so A's
/// successor is refused and no replay within the window brings it back.
pub(super) async fn logout_with_a_rotated_token_revokes_its_family(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
    let second = token(&subject, &clock);
    let grace = rules(60, ReusePolicy::RevokeFamily);
    let outcome = store
        .rotate(rotation(&first, &second, grace), shared.clone())
        .await
        .expect("rotate");
    assert_eq!(outcome, RotationOutcome::Rotated, "tab A rotates");
    assert_eq!(
        store.blacklist(first.clone()).await.expect("logout"),
        BlacklistOutcome::AlreadyBlacklisted,
        "tab B logs out with the rotated token: already blacklisted"
    );
    assert_eq!(
        state(store, &second).await,
        TokenState::Blacklisted,
        "the logout revoked tab A's successor"
    );
    let outcome = store
        .rotate(
            rotation(&second, &token(&subject, &clock), grace),
            shared.clone(),
        )
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "tab A's successor is refused after the logout"
    );
    clock.advance(Duration::from_secs(1));
    let outcome = store
        .rotate(rotation(&first, &token(&subject, &clock), grace), shared)
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "the logout ended the grace window of the rotated token"
    );
    assert_eq!(
        store.blacklist(first).await.expect("logout"),
        BlacklistOutcome::AlreadyBlacklisted,
        "a second logout changes nothing"
    );
}

pub(super) async fn revoke_subject(store: &dyn TokenStore) {
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

/// Logging out the current token ends the grace window of its used
/// predecessors: a replay within the window no longer brings the session back.
pub(super) async fn logout_ends_the_grace_of_its_family(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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
pub(super) async fn revoke_subject_ends_the_grace_of_its_families(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
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
