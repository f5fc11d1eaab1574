//! What Redis holds: no partial record after a failed script, no usable
//! token at rest, times clamped before any write.

use std::sync::Arc;
use std::time::Duration;

use redis::{AsyncCommands, Value};

use super::{connect, dump, now};
use crate::clock::SharedClock;
use crate::store::redis::{RECORD, ROTATE};
use crate::store::{
    BlacklistOutcome, RecordedToken, Rotation, RotationOutcome, StoreError, TokenState, TokenStore,
    MAX_TIMESTAMP,
};

/// Scripted failures: every script validates before its first write.
#[tokio::test]
async fn a_failed_rotation_leaves_no_partial_record() {
    let store = connect("simplejwt-partial").await;
    let subject = format!("user-{}", rand::random::<u32>());
    let prefix = store.prefix(&subject);
    let mut connection = store.connection.clone();
    let clock: SharedClock = Arc::new(crate::clock::ManualClock::new(now()));
    let exp = now() + 3600;
    let rotation = |presented: &str, successor: &str| Rotation {
        presented: RecordedToken::new(presented, &subject, exp),
        successor: RecordedToken::new(successor, &subject, exp),
        sealed_successor: Some("sealed".into()),
        rules: crate::store::RotationRules {
            reuse_grace: Duration::from_secs(10),
            ..Default::default()
        },
    };

    // A used record without its rotation time.
    let _: () = connection
        .hset_multiple(
            format!("{prefix}t:used"),
            &[("family", "used"), ("state", "used")],
        )
        .await
        .unwrap();
    // An active record whose family field is gone.
    let _: () = connection
        .hset(format!("{prefix}t:orphan"), "state", "active")
        .await
        .unwrap();
    // An active record whose successor jti is already taken.
    store
        .record(RecordedToken::new("taken", &subject, exp))
        .await
        .unwrap();
    store
        .record(RecordedToken::new("active", &subject, exp))
        .await
        .unwrap();
    let before = dump(&store, &subject).await;
    for (presented, successor) in [("used", "s1"), ("orphan", "s2"), ("active", "taken")] {
        let error = store
            .rotate(rotation(presented, successor), clock.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt(_) | StoreError::Unavailable(_)),
            "{error:?}"
        );
        assert_eq!(
            dump(&store, &subject).await,
            before,
            "the failed rotation of {presented} wrote nothing"
        );
    }
    // A numeric argument that is not a number fails before any write too.
    let reply: Result<Vec<Value>, _> = ROTATE
        .key(format!("{prefix}t:active"))
        .key(format!("{prefix}t:s3"))
        .key(format!("{prefix}families"))
        .key(format!("{prefix}s:active"))
        .arg("active")
        .arg("s3")
        .arg("sealed")
        .arg(exp)
        .arg("not a number")
        .arg(exp)
        .arg(exp)
        .arg(now())
        .arg(10)
        .arg("1")
        .arg("1")
        .arg("1")
        .arg(&prefix)
        .invoke_async(&mut connection)
        .await;
    assert!(reply.is_err());
    assert_eq!(dump(&store, &subject).await, before);
}

/// What Redis holds after a rotation with a grace window, and after it: no
/// value refreshes as a token, and the sealed successor expires with the window.
#[tokio::test]
async fn nothing_stored_is_a_usable_token() {
    let store = connect("simplejwt-at-rest").await;
    let subject = format!("user-{}", rand::random::<u32>());
    let clock = crate::clock::ManualClock::new(now());
    let shared: SharedClock = Arc::new(clock.clone());
    let exp = now() + 3600;
    let first = RecordedToken::new(format!("{:032x}", rand::random::<u128>()), &subject, exp);
    let second = RecordedToken::new(format!("{:032x}", rand::random::<u128>()), &subject, exp);
    store.record(first.clone()).await.unwrap();
    let (presented_token, successor_token) = ("first.raw.token", "second.raw.token");
    let sealed = crate::store::seal::seal(presented_token, &first.jti, successor_token).unwrap();
    let rules = crate::store::RotationRules {
        reuse_grace: Duration::from_secs(10),
        ..Default::default()
    };
    let outcome = store
        .rotate(
            Rotation {
                presented: first.clone(),
                successor: second.clone(),
                sealed_successor: Some(sealed),
                rules,
            },
            shared,
        )
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Rotated);
    let stored = dump(&store, &subject).await;
    for (key, values) in &stored {
        for value in values {
            assert!(
                !value.contains(successor_token) && !value.contains(presented_token),
                "{key} holds a token in clear: {value}"
            );
        }
    }
    let ttl: i64 = store
        .connection
        .clone()
        .ttl(format!("{}s:{}", store.prefix(&subject), first.jti))
        .await
        .unwrap();
    assert!(
        (1..=10).contains(&ttl),
        "the sealed successor lives only as long as the window: ttl {ttl}"
    );
}

/// A huge refresh lifetime, leeway and grace window: the times are
/// clamped to year 9999, the rotation writes consistent integers, and
/// purging still reads them.
#[tokio::test]
async fn huge_expiries_are_clamped_before_any_write() {
    let store = connect("simplejwt-huge").await;
    let subject = format!("user-{}", rand::random::<u32>());
    let prefix = store.prefix(&subject);
    let mut connection = store.connection.clone();
    let clock: SharedClock = Arc::new(crate::clock::ManualClock::new(now()));
    let huge = Duration::from_secs(u64::MAX);
    let first = RecordedToken::new("huge-1", &subject, u64::MAX).with_leeway(huge);
    let second = RecordedToken::new("huge-2", &subject, u64::MAX)
        .with_leeway(huge)
        .with_family_until(u64::MAX);
    store.record(first.clone()).await.unwrap();
    let rules = crate::store::RotationRules {
        reuse_grace: huge,
        ..Default::default()
    };
    let outcome = store
        .rotate(
            Rotation {
                presented: first,
                successor: second.clone(),
                sealed_successor: Some("sealed".into()),
                rules,
            },
            clock,
        )
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Rotated);
    let max = MAX_TIMESTAMP.to_string();
    for key in ["t:huge-1", "t:huge-2", "fam:huge-1"] {
        let keep_until: String = connection
            .hget(format!("{prefix}{key}"), "keep_until")
            .await
            .unwrap();
        assert_eq!(keep_until, max, "{key}");
        let expire_time: i64 = redis::cmd("EXPIRETIME")
            .arg(format!("{prefix}{key}"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(expire_time, MAX_TIMESTAMP as i64, "{key}");
    }
    let expires_at: String = connection
        .hget(format!("{prefix}t:huge-2"), "expires_at")
        .await
        .unwrap();
    assert_eq!(expires_at, max);
    // A record an earlier version left with a float keep-until does not stop purging.
    let _: () = connection
        .hset_multiple(
            format!("{prefix}t:huge-float"),
            &[
                ("family", "huge-float"),
                ("state", "active"),
                ("expires_at", "1.8446744073709552e+19"),
                ("keep_until", "1.8446744073709552e+19"),
            ],
        )
        .await
        .unwrap();
    store.purge_expired(now()).await.unwrap();
    assert_eq!(
        store.state(&subject, "huge-2").await.unwrap(),
        TokenState::Active
    );
    assert_eq!(
        store.state(&subject, "huge-float").await.unwrap(),
        TokenState::Active
    );
    assert_eq!(
        store.blacklist(second).await.unwrap(),
        BlacklistOutcome::Blacklisted
    );
    // An out-of-range time sent to a script fails before any write.
    let before = dump(&store, &subject).await;
    let reply: Result<i64, _> = RECORD
        .key(format!("{prefix}t:huge-3"))
        .key(format!("{prefix}families"))
        .key(format!("{prefix}s:huge-3"))
        .arg("huge-3")
        .arg(u64::MAX)
        .arg(u64::MAX)
        .arg(&prefix)
        .arg("record")
        .arg(u64::MAX)
        .invoke_async(&mut connection)
        .await;
    assert!(reply.is_err());
    assert_eq!(dump(&store, &subject).await, before);
}
