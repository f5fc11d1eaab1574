//! Records of the previous version (no family key).

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;

use super::{connect, now};
use crate::clock::SharedClock;
use crate::store::{
    BlacklistOutcome, RecordedToken, Refusal, Rotation, RotationOutcome, TokenState, TokenStore,
    CLOCK_SKEW_MARGIN,
};

/// Records of the previous version (no family key): a replay of a used
/// token after the window revokes the family, and the family outlives
/// the replayed token's keep-until, so its later successor stays refused.
#[tokio::test]
async fn a_family_revoked_on_records_of_the_previous_version_stays_revoked() {
    let store = connect("simplejwt-old-family").await;
    let subject = format!("user-{}", rand::random::<u32>());
    let prefix = store.prefix(&subject);
    let mut connection = store.connection.clone();
    let start = now();
    let clock = crate::clock::ManualClock::new(start);
    let shared: SharedClock = Arc::new(clock.clone());
    let lifetime = 3600;
    // T1 (exp start + 1h) was rotated at start + 100 into T2 (exp start + 1h + 100).
    let (t1, t2) = ("old-t1", "old-t2");
    let t1_exp = start + lifetime;
    let t2_exp = start + 100 + lifetime;
    for (jti, exp, fields) in [
        (
            t1,
            t1_exp,
            vec![
                ("state", "used".to_owned()),
                ("rotated_at", (start + 100).to_string()),
            ],
        ),
        (t2, t2_exp, vec![("state", "active".to_owned())]),
    ] {
        let mut fields = fields;
        fields.push(("family", t1.to_owned()));
        fields.push(("expires_at", exp.to_string()));
        let key = format!("{prefix}t:{jti}");
        let _: () = connection.hset_multiple(&key, &fields).await.unwrap();
        let _: () = connection
            .expire_at(&key, (exp + CLOCK_SKEW_MARGIN.as_secs()) as i64)
            .await
            .unwrap();
    }
    // The thief replays T1 after the window.
    clock.set(start + 200);
    let presented = RecordedToken::new(t1, &subject, t1_exp);
    let successor = RecordedToken::new("old-t3", &subject, start + 200 + lifetime);
    let rules = crate::store::RotationRules {
        reuse_grace: Duration::from_secs(10),
        ..Default::default()
    };
    let outcome = store
        .rotate(
            Rotation {
                presented: presented.clone(),
                successor,
                sealed_successor: None,
                rules,
            },
            shared.clone(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
    assert_eq!(
        store.state(&subject, t2).await.unwrap(),
        TokenState::Blacklisted
    );
    // Past T1's keep-until (but before T2's): the family is still revoked.
    let past_t1 = presented.retained_until() + 1;
    clock.set(past_t1);
    store.purge_expired(past_t1).await.unwrap();
    let family_expiry: i64 = redis::cmd("EXPIRETIME")
        .arg(format!("{prefix}fam:{t1}"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(
        family_expiry > past_t1 as i64,
        "the family key outlives the replayed token: {family_expiry}"
    );
    assert_eq!(
        store.state(&subject, t2).await.unwrap(),
        TokenState::Blacklisted
    );
    let outcome = store
        .rotate(
            Rotation {
                presented: RecordedToken::new(t2, &subject, t2_exp),
                successor: RecordedToken::new("old-t4", &subject, past_t1 + lifetime),
                sealed_successor: None,
                rules,
            },
            shared,
        )
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Refused(Refusal::Blacklisted));
}

/// Logging out a token of the previous version (no family key) keeps the
/// family as long as any token of it may live.
#[tokio::test]
async fn a_logout_on_records_of_the_previous_version_keeps_the_family() {
    let store = connect("simplejwt-old-family").await;
    let subject = format!("user-{}", rand::random::<u32>());
    let prefix = store.prefix(&subject);
    let mut connection = store.connection.clone();
    let start = now();
    let exp = start + 3600;
    let key = format!("{prefix}t:old-t1");
    let _: () = connection
        .hset_multiple(
            &key,
            &[
                ("family", "old-t1".to_owned()),
                ("state", "active".to_owned()),
                ("expires_at", exp.to_string()),
            ],
        )
        .await
        .unwrap();
    let bound = exp + 7200;
    let token = RecordedToken::new("old-t1", &subject, exp).with_family_until(bound);
    assert_eq!(
        store.blacklist(token).await.unwrap(),
        BlacklistOutcome::Blacklisted
    );
    let family_expiry: i64 = redis::cmd("EXPIRETIME")
        .arg(format!("{prefix}fam:old-t1"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(family_expiry, bound as i64);
    let stored: String = connection
        .hget(format!("{prefix}fam:old-t1"), "keep_until")
        .await
        .unwrap();
    assert_eq!(stored, bound.to_string());
}
