//! The memory store's own rules (the conformance suite runs it from `tests/store_conformance.rs`).

use super::shard::Key;
use super::*;

#[tokio::test]
async fn revoking_a_family_is_one_flag_whatever_its_length() {
    let store = MemoryTokenStore::new();
    let current = RecordedToken::new("c".repeat(32), "1", 1_000);
    let first = store.record_rotated_family(&current, 10_000);
    assert_eq!(store.len(), 10_001);
    assert_eq!(store.state("1", &first).await.unwrap(), TokenState::Used);
    {
        let mut shard = store.shard("1");
        let family = store.hash(&current.jti);
        assert!(shard.revoke_family(family, store.hash("1"), 1_000));
        assert_eq!(shard.families.len(), 1, "one family record");
    }
    assert_eq!(
        store.state("1", &current.jti).await.unwrap(),
        TokenState::Blacklisted,
        "the flag blacklists the current token"
    );
    assert_eq!(
        store.state("1", &first).await.unwrap(),
        TokenState::Blacklisted
    );
}

#[test]
fn keys_of_our_jtis_and_foreign_ones_never_collide() {
    assert!(matches!(
        Key::of("0123456789abcdef0123456789abcdef"),
        Key::Hex(_)
    ));
    for foreign in [
        "0123456789ABCDEF0123456789ABCDEF",
        "+123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcde",
        "j1",
    ] {
        assert!(matches!(Key::of(foreign), Key::Text(_)), "{foreign}");
    }
    assert_eq!(std::mem::size_of::<(u128, Record)>(), 64);
}

#[tokio::test]
async fn ended_windows_are_erased_by_walking_only_them() {
    use crate::clock::{ManualClock, SharedClock};
    use crate::store::{Rotation, RotationOutcome, RotationRules};
    use std::sync::Arc;
    use std::time::Duration;

    let store = MemoryTokenStore::new();
    let clock = ManualClock::new(1_000);
    let shared: SharedClock = Arc::new(clock.clone());
    let rules = RotationRules {
        reuse_grace: Duration::from_secs(10),
        ..RotationRules::default()
    };
    for (index, grace) in [(1u8, 10u64), (2, 20)] {
        let presented = RecordedToken::new(format!("{index:032x}"), "1", 5_000);
        store.record(presented.clone()).await.unwrap();
        let rotation = Rotation {
            presented,
            successor: RecordedToken::new(format!("{:032x}", index + 100), "1", 5_000),
            sealed_successor: Some(format!("sealed-{index}")),
            rules: RotationRules {
                reuse_grace: Duration::from_secs(grace),
                ..rules
            },
        };
        assert_eq!(
            store.rotate(rotation, shared.clone()).await.unwrap(),
            RotationOutcome::Rotated
        );
    }
    let sealed = |jti: &str| {
        let shard = store.shard("1");
        match &shard.get(jti).unwrap().state {
            State::Used(used) => used.sealed_successor.is_some(),
            _ => panic!("{jti} is not used"),
        }
    };
    assert_eq!(store.erase_ended_windows(1_009).await.unwrap(), 0);
    assert!(sealed(&format!("{:032x}", 1)));
    assert_eq!(store.erase_ended_windows(1_010).await.unwrap(), 1);
    assert!(!sealed(&format!("{:032x}", 1)), "the 10 s window ended");
    assert!(sealed(&format!("{:032x}", 2)), "the 20 s window is open");
    assert_eq!(store.purge_expired(1_020).await.unwrap(), 0);
    assert!(
        !sealed(&format!("{:032x}", 2)),
        "a purge erases ended windows too"
    );
    assert_eq!(store.erase_ended_windows(2_000).await.unwrap(), 0);
}
