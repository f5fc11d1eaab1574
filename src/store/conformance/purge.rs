//! Purging expired records and ended grace windows.

use std::sync::Arc;
use std::time::Duration;

use super::{fresh, random_hex, recorded_family, rotation, rules, sealed, state, token, START};
use crate::clock::{ManualClock, SharedClock};
use crate::config::ReusePolicy;
use crate::store::CLOCK_SKEW_MARGIN;
use crate::store::{
    BlacklistOutcome, RecordedToken, Refusal, RotationOutcome, TokenState, TokenStore,
};

pub(super) async fn purge(store: &dyn TokenStore) {
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
pub(super) async fn records_outlive_the_leeway(store: &dyn TokenStore) {
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

/// A sealed successor goes with its window: `erase_ended_windows` before
/// the window's end keeps it, `purge_expired` at its end erases it (seen by
/// a replay with the clock set back inside the window: refused, not answered).
pub(super) async fn ended_windows_are_erased(store: &dyn TokenStore) {
    let (subject, clock, shared, first) = recorded_family(store).await;
    let second = token(&subject, &clock);
    let grace = rules(10, ReusePolicy::RevokeFamily);
    store
        .rotate(rotation(&first, &second, grace), shared.clone())
        .await
        .expect("rotate");
    store
        .erase_ended_windows(START + 9)
        .await
        .expect("erase ended windows");
    clock.set(START + 9);
    let outcome = store
        .rotate(
            rotation(&first, &token(&subject, &clock), grace),
            shared.clone(),
        )
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Replayed {
            sealed_successor: sealed(&second)
        },
        "a window still open is kept"
    );
    store.purge_expired(START + 10).await.expect("purge");
    let outcome = store
        .rotate(rotation(&first, &token(&subject, &clock), grace), shared)
        .await
        .expect("replay");
    assert_eq!(
        outcome,
        RotationOutcome::Refused(Refusal::Blacklisted),
        "a purge at the end of the window erases the sealed successor"
    );
    assert_eq!(state(store, &second).await, TokenState::Active);
}
