//! The PostgreSQL store's own rules: upgrades, outages and ended grace
//! windows (the conformance suite and the two-connection interleavings run
//! it from `tests/store_conformance.rs`).
use std::sync::Arc;

use super::*;
use crate::store::{Refusal, CLOCK_SKEW_MARGIN, MAX_TIMESTAMP};
use sqlx::postgres::PgPoolOptions;

/// The CI database; a missing server fails the test, it is not skipped.
fn database_url() -> String {
    std::env::var("TOWER_SIMPLEJWT_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database of the previous version, in a database of its own: rows
/// whose `exp` is `i64::MAX` are upgraded (kept until the latest time)
/// instead of failing every start with "bigint out of range".
#[tokio::test]
async fn a_database_of_the_previous_version_is_upgraded_in_place() {
    use std::str::FromStr;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&database_url())
        .await
        .expect("PostgreSQL must be running on 127.0.0.1:5432");
    let database = format!("tsj_upgrade_{:016x}", rand::random::<u64>());
    sqlx::raw_sql(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(&database_url())
        .unwrap()
        .database(&database);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE simplejwt_refresh_tokens (
            jti TEXT PRIMARY KEY NOT NULL, subject TEXT NOT NULL, family TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('active', 'used', 'blacklisted')),
            successor_token TEXT, rotated_at BIGINT);
         INSERT INTO simplejwt_refresh_tokens VALUES
            ('old', '7', 'old', 9223372036854775807, 'used', 'clear.successor.token', 1800000000),
            ('current', '7', 'old', 9223372036854775807, 'active', NULL, NULL),
            ('other', '8', 'other', 2000000000, 'active', NULL, NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let upgraded = PostgresTokenStore::from_pool(pool.clone()).await;
    let checks = async {
        let store = upgraded?;
        let keep_until: Vec<(String, i64)> =
            sqlx::query_as("SELECT jti, keep_until FROM simplejwt_refresh_tokens ORDER BY jti")
                .fetch_all(store.pool())
                .await
                .map_err(unavailable)?;
        let margin = CLOCK_SKEW_MARGIN.as_secs() as i64;
        assert_eq!(
            keep_until,
            vec![
                ("current".to_owned(), MAX_TIMESTAMP as i64),
                ("old".to_owned(), MAX_TIMESTAMP as i64),
                ("other".to_owned(), 2_000_000_000 + margin),
            ]
        );
        assert_eq!(store.state("7", "current").await?, TokenState::Active);
        assert_eq!(store.revoke_subject("7").await?, 1, "one family filled in");
        assert_eq!(store.state("7", "current").await?, TokenState::Blacklisted);
        assert_eq!(store.state("8", "other").await?, TokenState::Active);
        // Connecting again changes nothing.
        let again = PostgresTokenStore::from_pool(store.pool().clone()).await?;
        assert_eq!(again.state("7", "current").await?, TokenState::Blacklisted);
        Ok::<(), StoreError>(())
    }
    .await;
    pool.close().await;
    sqlx::raw_sql(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    checks.unwrap();
}

/// Token rows without a family row: a replay after the window creates
/// the revoked family kept as long as the would-be successor (so past
/// every token of it), not only as long as the replayed token.
#[tokio::test]
async fn a_family_revoked_without_its_row_outlives_the_replayed_token() {
    let store = PostgresTokenStore::connect(&database_url()).await.unwrap();
    let id = format!("{:016x}", rand::random::<u64>());
    let (t1, t2, t3) = (format!("t1-{id}"), format!("t2-{id}"), format!("t3-{id}"));
    let subject = format!("user-{id}");
    let (start, lifetime) = (1_900_000_000_u64, 3600);
    let margin = CLOCK_SKEW_MARGIN.as_secs();
    sqlx::query(
        "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, rotated_at, keep_until) VALUES
            ($1, $3, $1, $4, 'used', $5, $6), ($2, $3, $1, $7, 'active', NULL, $8)",
    )
    .bind(&t1)
    .bind(&t2)
    .bind(&subject)
    .bind((start + lifetime) as i64)
    .bind((start + 100) as i64)
    .bind((start + lifetime + margin) as i64)
    .bind((start + 100 + lifetime) as i64)
    .bind((start + 100 + lifetime + margin) as i64)
    .execute(store.pool())
    .await
    .unwrap();
    let clock: SharedClock = Arc::new(crate::clock::ManualClock::new(start + 200));
    let successor = RecordedToken::new(&t3, &subject, start + 200 + lifetime);
    let outcome = store
        .rotate(
            Rotation {
                presented: RecordedToken::new(&t1, &subject, start + lifetime),
                successor: successor.clone(),
                sealed_successor: None,
                rules: crate::store::RotationRules {
                    reuse_grace: Duration::from_secs(10),
                    ..Default::default()
                },
            },
            clock,
        )
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
    let (revoked, keep_until): (bool, i64) = sqlx::query_as(
        "SELECT revoked, keep_until FROM simplejwt_refresh_families WHERE family = $1",
    )
    .bind(&t1)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(revoked);
    assert_eq!(keep_until, successor.retained_until() as i64);
    assert_eq!(
        store.state(&subject, &t2).await.unwrap(),
        TokenState::Blacklisted
    );
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let error = PostgresTokenStore::connect("postgres://postgres@127.0.0.1:1/test")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

/// A sealed successor after its window: erased by the cheap step, with no
/// rotation after it; a logout with the rotated token erases it at once.
#[tokio::test]
async fn ended_windows_and_logouts_erase_the_sealed_successor() {
    let store = PostgresTokenStore::connect(&database_url()).await.unwrap();
    let id = format!("{:016x}", rand::random::<u64>());
    let subject = format!("user-{id}");
    let start = 1_900_000_000_u64;
    let shared: SharedClock = Arc::new(crate::clock::ManualClock::new(start));
    let sealed = |jti: String| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT sealed_successor FROM simplejwt_refresh_tokens WHERE jti = $1",
            )
            .bind(jti)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let mut firsts = Vec::new();
    for index in 0..2 {
        let first = RecordedToken::new(format!("w{index}-{id}"), &subject, start + 3600);
        store.record(first.clone()).await.unwrap();
        let rotation = Rotation {
            presented: first.clone(),
            successor: RecordedToken::new(format!("s{index}-{id}"), &subject, start + 3600),
            sealed_successor: Some(format!("sealed-{index}")),
            rules: crate::store::RotationRules {
                reuse_grace: Duration::from_secs(10),
                ..Default::default()
            },
        };
        assert_eq!(
            store.rotate(rotation, shared.clone()).await.unwrap(),
            RotationOutcome::Rotated
        );
        firsts.push(first);
    }
    store.erase_ended_windows(start + 9).await.unwrap();
    assert_eq!(
        sealed(firsts[0].jti.clone()).await.as_deref(),
        Some("sealed-0")
    );
    assert_eq!(
        store.blacklist(firsts[1].clone()).await.unwrap(),
        BlacklistOutcome::AlreadyBlacklisted
    );
    assert_eq!(
        sealed(firsts[1].jti.clone()).await,
        None,
        "logout erases it"
    );
    assert_eq!(
        store.state(&subject, &format!("s1-{id}")).await.unwrap(),
        TokenState::Blacklisted,
        "and revokes the family"
    );
    assert!(store.erase_ended_windows(start + 10).await.unwrap() >= 1);
    assert_eq!(
        sealed(firsts[0].jti.clone()).await,
        None,
        "erased when the window ends"
    );
}

/// A purge of more than one batch: every expired record goes, over several
/// statements, and the live ones stay (counted by this test's own subject,
/// since the database is shared).
#[tokio::test]
async fn a_purge_of_many_batches_keeps_the_live_records() {
    use crate::clock::Clock as _;
    let store = PostgresTokenStore::connect(&database_url()).await.unwrap();
    let id = format!("{:016x}", rand::random::<u64>());
    let subject = format!("purge-{id}");
    let clock = crate::clock::ManualClock::new(1_900_000_000);
    let now = clock.now();
    sqlx::query(
        "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, keep_until)
             SELECT $1 || '-old-' || i, $1, $1 || '-f-' || i, 1800000000, 'active', 1800000300
             FROM generate_series(1, 2500) AS i",
    )
    .bind(&subject)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO simplejwt_refresh_families (family, subject, revoked, keep_until)
             SELECT $1 || '-f-' || i, $1, FALSE, 1800000300 FROM generate_series(1, 2500) AS i",
    )
    .bind(&subject)
    .execute(store.pool())
    .await
    .unwrap();
    for live in 0..5 {
        let token = RecordedToken::new(format!("{subject}-live-{live}"), &subject, now + 3600);
        store.record(token).await.unwrap();
    }
    assert!(store.purge_expired(now).await.unwrap() >= 2500);
    let tokens: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM simplejwt_refresh_tokens WHERE subject = $1")
            .bind(&subject)
            .fetch_one(store.pool())
            .await
            .unwrap();
    let families: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM simplejwt_refresh_families WHERE subject = $1")
            .bind(&subject)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((tokens, families), (5, 5), "expired gone, live ones kept");
    for live in 0..5 {
        assert_eq!(
            store
                .state(&subject, &format!("{subject}-live-{live}"))
                .await
                .unwrap(),
            TokenState::Active
        );
    }
}
