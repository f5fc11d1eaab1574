//! The SQLite store's own rules: upgrades, reopening, outages, and the
//! ended grace windows (the conformance suite and the two-pool interleavings
//! run it from `tests/store_conformance.rs`).

use std::sync::Arc;

use super::*;
use crate::store::{Refusal, CLOCK_SKEW_MARGIN, MAX_TIMESTAMP};

/// A database of the previous version: its records keep working, its
/// families are filled in, and its clear-text successors are erased.
#[tokio::test]
async fn a_database_of_the_previous_version_is_upgraded_in_place() {
    let (dir, url) = temp_url("upgrade");
    let pool = open_pool(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE simplejwt_refresh_tokens (
            jti TEXT PRIMARY KEY NOT NULL, subject TEXT NOT NULL, family TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('active', 'used', 'blacklisted')),
            successor_token TEXT, rotated_at INTEGER);
         INSERT INTO simplejwt_refresh_tokens VALUES
            ('old', '7', 'old', 2000000000, 'used', 'clear.successor.token', 1800000000),
            ('current', '7', 'old', 2000000000, 'active', NULL, NULL),
            ('other', '8', 'other', 2000000000, 'active', NULL, NULL),
            ('huge', '9', 'huge', 9223372036854775807, 'active', NULL, NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let store = SqliteTokenStore::from_pool(pool).await.unwrap();
    let clear: Option<String> = sqlx::query_scalar(
        "SELECT successor_token FROM simplejwt_refresh_tokens WHERE jti = 'old'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(clear, None, "the clear-text successor is erased");
    let keep_until: i64 =
        sqlx::query_scalar("SELECT keep_until FROM simplejwt_refresh_tokens WHERE jti = 'current'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        keep_until,
        2_000_000_000 + CLOCK_SKEW_MARGIN.as_secs() as i64
    );
    assert_eq!(
        store.state("7", "current").await.unwrap(),
        TokenState::Active
    );
    assert_eq!(
        store.revoke_subject("7").await.unwrap(),
        1,
        "one family filled in"
    );
    assert_eq!(
        store.state("7", "current").await.unwrap(),
        TokenState::Blacklisted
    );
    assert_eq!(store.state("8", "other").await.unwrap(), TokenState::Active);
    let huge: i64 =
        sqlx::query_scalar("SELECT keep_until FROM simplejwt_refresh_tokens WHERE jti = 'huge'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        huge, MAX_TIMESTAMP as i64,
        "an exp near i64::MAX is clamped"
    );
    // Opening it again changes nothing.
    store.pool().close().await;
    let reopened = SqliteTokenStore::connect(&url).await.unwrap();
    assert_eq!(
        reopened.state("7", "current").await.unwrap(),
        TokenState::Blacklisted
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Token rows without a family row: a replay after the window revokes
/// the family, which outlives the replayed token, so its later
/// successor stays refused once the replayed token is purged.
#[tokio::test]
async fn a_family_revoked_without_its_row_outlives_the_replayed_token() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    let (start, lifetime) = (1_900_000_000_u64, 3600);
    let margin = CLOCK_SKEW_MARGIN.as_secs();
    sqlx::query(
        "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, rotated_at, keep_until) VALUES
            ('t1', '7', 't1', ?1, 'used', ?2, ?3), ('t2', '7', 't1', ?4, 'active', NULL, ?5)",
    )
    .bind((start + lifetime) as i64)
    .bind((start + 100) as i64)
    .bind((start + lifetime + margin) as i64)
    .bind((start + 100 + lifetime) as i64)
    .bind((start + 100 + lifetime + margin) as i64)
    .execute(store.pool())
    .await
    .unwrap();
    let clock = crate::clock::ManualClock::new(start + 200);
    let shared: crate::clock::SharedClock = Arc::new(clock.clone());
    let presented = RecordedToken::new("t1", "7", start + lifetime);
    let rules = crate::store::RotationRules {
        reuse_grace: std::time::Duration::from_secs(10),
        ..Default::default()
    };
    let outcome = store
        .rotate(
            Rotation {
                presented: presented.clone(),
                successor: RecordedToken::new("t3", "7", start + 200 + lifetime),
                sealed_successor: None,
                rules,
            },
            shared,
        )
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
    let past_t1 = presented.retained_until() + 1;
    clock.set(past_t1);
    store.purge_expired(past_t1).await.unwrap();
    assert_eq!(store.state("7", "t1").await.unwrap(), TokenState::Unknown);
    assert_eq!(
        store.state("7", "t2").await.unwrap(),
        TokenState::Blacklisted,
        "the revoked family outlives the replayed token"
    );
}

#[tokio::test]
async fn records_survive_reopening() {
    let (dir, url) = temp_url("reopen");
    let store = SqliteTokenStore::connect(&url).await.unwrap();
    store
        .blacklist(RecordedToken::new("j", "1", u64::MAX))
        .await
        .unwrap();
    store.pool().close().await;
    let reopened = SqliteTokenStore::connect(&url).await.unwrap();
    assert_eq!(
        reopened.state("1", "j").await.unwrap(),
        TokenState::Blacklisted
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_closed_pool_is_unavailable_not_a_verdict() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    store.pool().close().await;
    assert!(matches!(
        store.state("1", "j").await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.record(RecordedToken::new("j", "1", 5)).await,
        Err(StoreError::Unavailable(_))
    ));
}

/// The sealed successor's row after its window: erased by the cheap step,
/// with no rotation after it.
#[tokio::test]
async fn an_ended_window_is_erased_without_a_later_rotation() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    let clock = crate::clock::ManualClock::new(1_900_000_000);
    let shared: crate::clock::SharedClock = Arc::new(clock.clone());
    let first = RecordedToken::new("w1", "7", 1_900_003_600);
    store.record(first.clone()).await.unwrap();
    let rules = crate::store::RotationRules {
        reuse_grace: std::time::Duration::from_secs(10),
        ..Default::default()
    };
    let rotation = Rotation {
        presented: first,
        successor: RecordedToken::new("w2", "7", 1_900_003_600),
        sealed_successor: Some("sealed-w2".into()),
        rules,
    };
    assert_eq!(
        store.rotate(rotation, shared).await.unwrap(),
        RotationOutcome::Rotated
    );
    let sealed = || async {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT sealed_successor FROM simplejwt_refresh_tokens WHERE jti = 'w1'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    assert_eq!(store.erase_ended_windows(1_900_000_009).await.unwrap(), 0);
    assert_eq!(sealed().await.as_deref(), Some("sealed-w2"));
    assert_eq!(store.erase_ended_windows(1_900_000_010).await.unwrap(), 1);
    assert_eq!(sealed().await, None, "erased when the window ends");
}

/// Logging out with a token another tab has rotated revokes the family and
/// erases the token's sealed successor.
#[tokio::test]
async fn a_logout_with_a_rotated_token_erases_its_successor() {
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    let shared: crate::clock::SharedClock = Arc::new(crate::clock::ManualClock::new(1_900_000_000));
    let first = RecordedToken::new("l1", "7", 1_900_003_600);
    store.record(first.clone()).await.unwrap();
    let rotation = Rotation {
        presented: first.clone(),
        successor: RecordedToken::new("l2", "7", 1_900_003_600),
        sealed_successor: Some("sealed-l2".into()),
        rules: crate::store::RotationRules {
            reuse_grace: std::time::Duration::from_secs(10),
            ..Default::default()
        },
    };
    store.rotate(rotation, shared).await.unwrap();
    assert_eq!(
        store.blacklist(first).await.unwrap(),
        BlacklistOutcome::AlreadyBlacklisted
    );
    let sealed: Option<String> = sqlx::query_scalar(
        "SELECT sealed_successor FROM simplejwt_refresh_tokens WHERE jti = 'l1'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(sealed, None);
    assert_eq!(
        store.state("7", "l2").await.unwrap(),
        TokenState::Blacklisted
    );
}

/// A purge of more than one batch: every expired record goes, over several
/// transactions, and the live ones stay.
#[tokio::test]
async fn a_purge_of_many_batches_keeps_the_live_records() {
    use crate::clock::Clock as _;
    let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
    let clock = crate::clock::ManualClock::new(1_900_000_000);
    let now = clock.now();
    sqlx::raw_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, keep_until)
             SELECT 'old-' || i, '7', 'f-' || i, 1800000000, 'active', 1800000300 FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         INSERT INTO simplejwt_refresh_families (family, subject, revoked, keep_until)
             SELECT 'f-' || i, '7', 0, 1800000300 FROM n;",
    )
    .execute(store.pool())
    .await
    .unwrap();
    for live in 0..5 {
        let token = RecordedToken::new(format!("live-{live}"), "7", now + 3600);
        store.record(token).await.unwrap();
    }
    assert_eq!(store.purge_expired(clock.now()).await.unwrap(), 2500);
    let count = |table: &'static str| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("simplejwt_refresh_tokens").await, 5, "live ones kept");
    assert_eq!(count("simplejwt_refresh_families").await, 5);
    for live in 0..5 {
        assert_eq!(
            store.state("7", &format!("live-{live}")).await.unwrap(),
            TokenState::Active
        );
    }
}
