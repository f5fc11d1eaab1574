//! A token store in PostgreSQL (sqlx), shared by any number of server processes.
//!
//! The schema is created on connect, under a transaction-level advisory lock
//! so that processes starting together do not race. A rotation is one
//! transaction that locks its family's row and then the presented token's
//! row (`SELECT … FOR UPDATE`) before reading them, so two servers behind a
//! load balancer can never both rotate one token (the second waits, then
//! sees it used), and a revocation of the family can never miss the
//! successor of a rotation in flight (see [`PostgresTokenStore`]).
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use tower_simplejwt::store::postgres::PostgresTokenStore;
//!
//! # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
//! let store = PostgresTokenStore::connect("postgres://postgres@127.0.0.1/test").await?;
//! tower_simplejwt::store::conformance::run(Arc::new(store)).await;
//! # Ok(()) }
//! ```

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;

use super::rules::{next_step, stored_state, successor_until, Step};
use super::{
    warn_reuse, BlacklistOutcome, BoxFuture, Checkpoint, PauseHook, RecordedToken, Refusal,
    Rotation, RotationOutcome, StoreError, TokenState, TokenStore, CLOCK_SKEW_MARGIN,
    MAX_TIMESTAMP,
};
use crate::clock::SharedClock;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS simplejwt_refresh_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    family TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'used', 'blacklisted')),
    rotated_at BIGINT,
    keep_until BIGINT,
    sealed_successor TEXT,
    successor_until BIGINT
);
CREATE TABLE IF NOT EXISTS simplejwt_refresh_families (
    family TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    keep_until BIGINT NOT NULL
);
";

/// Created last: `simplejwt_refresh_families_keep_until` existing means the whole schema does.
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_subject ON simplejwt_refresh_tokens (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_keep_until ON simplejwt_refresh_tokens (keep_until);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_successor_until ON simplejwt_refresh_tokens (successor_until)
    WHERE sealed_successor IS NOT NULL;
CREATE INDEX IF NOT EXISTS simplejwt_refresh_families_subject ON simplejwt_refresh_families (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_families_keep_until ON simplejwt_refresh_families (keep_until);
";

/// An arbitrary constant naming this crate's schema lock.
const SCHEMA_LOCK: i64 = 0x7369_6d70_6c65_6a77;

/// How many ended grace windows one rotation erases at most (the rest wait for the next).
const ERASE_BATCH: i64 = 64;

/// Refresh-token records in PostgreSQL. Cloning is cheap and shares the pool.
///
/// # Revocation against rotation
///
/// Transactions run at READ COMMITTED. Every step that reads or changes a
/// family's tokens takes the family's row lock first (`SELECT … FOR
/// UPDATE` on `simplejwt_refresh_families`), then the token's: always in
/// that order, so they cannot deadlock.
///
/// - A rotation holds the family lock from before it reads the presented
///   token until it commits the successor. A revocation (reuse detected by
///   another rotation, a logout, [`TokenStore::revoke_subject`]) must take
///   the same lock to mark the family: it waits for the rotation to commit,
///   and the successor that rotation inserted belongs to the family it then
///   marks revoked; a token is usable only if its family is not revoked.
/// - A rotation that comes second waits for the revocation's commit, and
///   `FOR UPDATE` returns the row's newest committed version (not the
///   snapshot taken before the wait), so it sees `revoked` and refuses.
///
/// The earlier design revoked with `UPDATE … WHERE family = $1` over the
/// token rows: that statement's snapshot missed a successor inserted by a
/// rotation it had waited for, and the chain went on.
///
/// # Upgrading
///
/// Connecting to a database of an earlier version (under the schema
/// advisory lock, in one transaction) adds the new columns, creates the
/// families table and fills it from the tokens, keeps old records until
/// `exp` plus [`CLOCK_SKEW_MARGIN`] (at most [`MAX_TIMESTAMP`];
/// the leeway they were verified with is not known, so it is not added), and erases the clear-text successors
/// of the old `successor_token` column (a replay within the grace window
/// of a rotation made before the upgrade is then refused, not answered).
#[derive(Debug, Clone)]
pub struct PostgresTokenStore {
    pool: PgPool,
    pause: Option<PauseHook>,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::unavailable(error)
}

/// PostgreSQL integers are signed: dates beyond `i64::MAX` are stored as `i64::MAX`.
fn to_sql(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// A presented token's row, read under its lock.
struct TokenRow {
    state: String,
    sealed_successor: Option<String>,
    successor_until: Option<i64>,
    rotated_at: Option<i64>,
}

impl PostgresTokenStore {
    /// Connects to `url` (for example `postgres://user@host/db`) and creates the schema.
    ///
    /// The pool gives up on a connection after 3 seconds, so an unreachable
    /// server turns into [`StoreError::Unavailable`] (503) quickly.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await
            .map_err(unavailable)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool and creates the schema, upgrading an earlier one in place.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        let mut transaction = pool.begin().await.map_err(unavailable)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        let (families_existed, current): (bool, bool) = sqlx::query_as(
            "SELECT to_regclass('simplejwt_refresh_families') IS NOT NULL,
                    to_regclass('simplejwt_refresh_families_keep_until') IS NOT NULL",
        )
        .fetch_one(&mut *transaction)
        .await
        .map_err(unavailable)?;
        if current {
            // The last object of the schema exists, so all do: no DDL, whose
            // table locks would queue behind (and deadlock with) the rotations
            // of the servers already running.
            transaction.commit().await.map_err(unavailable)?;
            return Ok(PostgresTokenStore { pool, pause: None });
        }
        sqlx::raw_sql(SCHEMA)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        if !families_existed {
            Self::upgrade(&mut transaction).await?;
        }
        sqlx::raw_sql(INDEXES)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        transaction.commit().await.map_err(unavailable)?;
        Ok(PostgresTokenStore { pool, pause: None })
    }

    /// Brings a table of an earlier version to this one (see "Upgrading").
    async fn upgrade(connection: &mut sqlx::PgConnection) -> Result<(), StoreError> {
        let has_successor_token: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'simplejwt_refresh_tokens'
                AND column_name = 'successor_token')",
        )
        .fetch_one(&mut *connection)
        .await
        .map_err(unavailable)?;
        let margin = CLOCK_SKEW_MARGIN.as_secs();
        let mut statements = String::from(
            "ALTER TABLE simplejwt_refresh_tokens ADD COLUMN IF NOT EXISTS keep_until BIGINT,
                ADD COLUMN IF NOT EXISTS sealed_successor TEXT, ADD COLUMN IF NOT EXISTS successor_until BIGINT;",
        );
        if has_successor_token {
            statements.push_str(
                "UPDATE simplejwt_refresh_tokens SET successor_token = NULL WHERE successor_token IS NOT NULL;",
            );
        }
        // The leeway the old rows were verified with is not known here: they
        // are kept until `exp` + the margin, clamped (an `exp` near
        // `i64::MAX` would overflow `bigint` and fail every start).
        let latest = MAX_TIMESTAMP - margin;
        statements.push_str(&format!(
            "UPDATE simplejwt_refresh_tokens SET keep_until = LEAST(expires_at, {latest}) + {margin} WHERE keep_until IS NULL;
             INSERT INTO simplejwt_refresh_families (family, subject, revoked, keep_until)
                 SELECT family, MIN(subject), FALSE, MAX(keep_until) FROM simplejwt_refresh_tokens GROUP BY family
                 ON CONFLICT (family) DO NOTHING;"
        ));
        sqlx::raw_sql(&statements)
            .execute(connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The same store whose rotations await `hook` at each [`Checkpoint`] (for interleaving tests).
    #[doc(hidden)]
    pub fn with_pause_hook(mut self, hook: PauseHook) -> Self {
        self.pause = Some(hook);
        self
    }

    async fn insert(
        connection: &mut sqlx::PgConnection,
        token: &RecordedToken,
        family: &str,
        state: &str,
    ) -> Result<u64, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, keep_until) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&token.jti)
        .bind(&token.subject)
        .bind(family)
        .bind(to_sql(token.stored_expires_at()))
        .bind(state)
        .bind(to_sql(token.retained_until()))
        .execute(connection)
        .await
        .map_err(unavailable)?;
        Ok(inserted.rows_affected())
    }

    /// The family of the token `jti` if recorded (a token's family never
    /// changes, so this read needs no lock).
    async fn family_of(
        connection: &mut sqlx::PgConnection,
        jti: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT family FROM simplejwt_refresh_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(connection)
            .await
            .map_err(unavailable)
    }

    /// Locks the family row of the recorded token `jti` in one round trip
    /// (the common case); `None` when the token or its family row is missing.
    async fn lock_family_of(
        connection: &mut sqlx::PgConnection,
        jti: &str,
    ) -> Result<Option<(String, bool)>, StoreError> {
        sqlx::query_as(
            "SELECT family, revoked FROM simplejwt_refresh_families
             WHERE family = (SELECT family FROM simplejwt_refresh_tokens WHERE jti = $1)
             FOR UPDATE",
        )
        .bind(jti)
        .fetch_optional(connection)
        .await
        .map_err(unavailable)
    }

    /// Locks the family's row (creating it if missing: a new family, or one
    /// of a token recorded before families existed) and returns whether it is
    /// revoked. Every step on a family's tokens takes this lock first.
    async fn lock_family(
        connection: &mut sqlx::PgConnection,
        family: &str,
        subject: &str,
        keep_until: u64,
    ) -> Result<bool, StoreError> {
        const LOCK: &str =
            "SELECT revoked FROM simplejwt_refresh_families WHERE family = $1 FOR UPDATE";
        let revoked: Option<bool> = sqlx::query_scalar(LOCK)
            .bind(family)
            .fetch_optional(&mut *connection)
            .await
            .map_err(unavailable)?;
        if let Some(revoked) = revoked {
            return Ok(revoked);
        }
        sqlx::query(
            "INSERT INTO simplejwt_refresh_families (family, subject, revoked, keep_until) VALUES ($1, $2, FALSE, $3)
             ON CONFLICT (family) DO NOTHING",
        )
        .bind(family)
        .bind(subject)
        .bind(to_sql(keep_until))
        .execute(&mut *connection)
        .await
        .map_err(unavailable)?;
        sqlx::query_scalar(LOCK)
            .bind(family)
            .fetch_one(connection)
            .await
            .map_err(unavailable)
    }

    /// Keeps the (locked) family at least until `keep_until`, revoking it
    /// when `revoke`; in the same statement, erases up to [`ERASE_BATCH`]
    /// sealed successors whose grace window ended at or before `now`,
    /// skipping rows other transactions hold (so it never waits, and never
    /// deadlocks). `ORDER BY successor_until` keeps the planner on the
    /// partial index even when the table's statistics are stale (a `LIMIT`
    /// alone lets it pick a scan of the whole table).
    async fn update_family(
        connection: &mut sqlx::PgConnection,
        family: &str,
        keep_until: u64,
        revoke: bool,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "WITH erased AS (
                UPDATE simplejwt_refresh_tokens SET sealed_successor = NULL, successor_until = NULL
                WHERE jti IN (SELECT jti FROM simplejwt_refresh_tokens
                    WHERE successor_until <= $4 AND sealed_successor IS NOT NULL
                    ORDER BY successor_until LIMIT $5 FOR UPDATE SKIP LOCKED)
                RETURNING 1)
             UPDATE simplejwt_refresh_families SET keep_until = GREATEST(keep_until, $2), revoked = revoked OR $3
             WHERE family = $1",
        )
        .bind(family)
        .bind(to_sql(keep_until))
        .bind(revoke)
        .bind(to_sql(now))
        .bind(ERASE_BATCH)
        .execute(connection)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn lock_token(
        connection: &mut sqlx::PgConnection,
        jti: &str,
    ) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT state, sealed_successor, successor_until, rotated_at FROM simplejwt_refresh_tokens WHERE jti = $1 FOR UPDATE",
        )
        .bind(jti)
        .fetch_optional(connection)
        .await
        .map_err(unavailable)?;
        row.map(|row| {
            Ok(TokenRow {
                state: row.try_get("state").map_err(unavailable)?,
                sealed_successor: row.try_get("sealed_successor").map_err(unavailable)?,
                successor_until: row.try_get("successor_until").map_err(unavailable)?,
                rotated_at: row.try_get("rotated_at").map_err(unavailable)?,
            })
        })
        .transpose()
    }

    async fn rotate_in(
        &self,
        connection: &mut sqlx::PgConnection,
        rotation: Rotation,
        clock: SharedClock,
    ) -> Result<RotationOutcome, StoreError> {
        let Rotation {
            presented,
            successor,
            sealed_successor,
            rules,
        } = rotation;
        PauseHook::at(&self.pause, Checkpoint::Begun).await;
        let (family, family_revoked) =
            match Self::lock_family_of(connection, &presented.jti).await? {
                Some(locked) => locked,
                None => {
                    let Some(family) = Self::family_of(connection, &presented.jti)
                        .await?
                        .or_else(|| rules.accept_unrecorded.then(|| presented.jti.clone()))
                    else {
                        return Ok(RotationOutcome::Refused(Refusal::Unrecorded));
                    };
                    // A family row created for tokens of an earlier version is
                    // kept as long as any token of it (see `family_until`).
                    let family_revoked = Self::lock_family(
                        connection,
                        &family,
                        &presented.subject,
                        presented
                            .family_retained_until()
                            .max(successor.retained_until()),
                    )
                    .await?;
                    (family, family_revoked)
                }
            };
        PauseHook::at(&self.pause, Checkpoint::FamilyLocked).await;
        let mut record = Self::lock_token(connection, &presented.jti).await?;
        if record.is_none() && rules.accept_unrecorded {
            // Adopt the unrecorded token: its family (named after it) is locked above.
            Self::insert(connection, &presented, &family, "active").await?;
            record = Self::lock_token(connection, &presented.jti).await?;
        }
        // The locks are held from here: read the clock now, not before.
        let now = clock.now();
        PauseHook::at(&self.pause, Checkpoint::TokenLocked).await;
        let stored = match &record {
            None => None,
            Some(row) => Some(stored_state(
                &presented.jti,
                &row.state,
                &row.sealed_successor,
                row.successor_until,
                row.rotated_at,
                now,
            )?),
        };
        let outcome = match next_step(stored, family_revoked, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(sealed_successor) => RotationOutcome::Replayed { sealed_successor },
            Step::Reuse { revoke_family } => {
                sqlx::query(
                    "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted', sealed_successor = NULL, successor_until = NULL WHERE jti = $1",
                )
                .bind(&presented.jti)
                .execute(&mut *connection)
                .await
                .map_err(unavailable)?;
                Self::update_family(
                    connection,
                    &family,
                    presented
                        .family_retained_until()
                        .max(successor.retained_until()),
                    revoke_family,
                    now,
                )
                .await?;
                warn_reuse(&presented.jti, &presented.subject, &family, revoke_family);
                RotationOutcome::Refused(Refusal::Reused)
            }
            Step::AdoptAndRotate | Step::Rotate => {
                if rules.blacklist_after_rotation {
                    let until = successor_until(&rules, sealed_successor.as_deref(), now);
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'used', rotated_at = $1, sealed_successor = $2, successor_until = $3 WHERE jti = $4",
                    )
                    .bind(to_sql(now))
                    .bind(until.and(sealed_successor))
                    .bind(until.map(to_sql))
                    .bind(&presented.jti)
                    .execute(&mut *connection)
                    .await
                    .map_err(unavailable)?;
                }
                Self::insert(connection, &successor, &family, "active").await?;
                Self::update_family(connection, &family, successor.retained_until(), false, now)
                    .await?;
                RotationOutcome::Rotated
            }
        };
        PauseHook::at(&self.pause, Checkpoint::Written).await;
        Ok(outcome)
    }
}

impl TokenStore for PostgresTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut transaction = self.pool.begin().await.map_err(unavailable)?;
            Self::lock_family(
                &mut transaction,
                &token.jti,
                &token.subject,
                token.retained_until(),
            )
            .await?;
            Self::insert(&mut transaction, &token, &token.jti, "active").await?;
            transaction.commit().await.map_err(unavailable)
        })
    }

    fn rotate(
        &self,
        rotation: Rotation,
        clock: SharedClock,
    ) -> BoxFuture<'_, Result<RotationOutcome, StoreError>> {
        Box::pin(async move {
            let mut transaction = self.pool.begin().await.map_err(unavailable)?;
            let outcome = self.rotate_in(&mut transaction, rotation, clock).await?;
            transaction.commit().await.map_err(unavailable)?;
            Ok(outcome)
        })
    }

    fn blacklist(
        &self,
        token: RecordedToken,
    ) -> BoxFuture<'_, Result<BlacklistOutcome, StoreError>> {
        Box::pin(async move {
            let mut transaction = self.pool.begin().await.map_err(unavailable)?;
            let family = Self::family_of(&mut transaction, &token.jti)
                .await?
                .unwrap_or_else(|| token.jti.clone());
            let family_revoked = Self::lock_family(
                &mut transaction,
                &family,
                &token.subject,
                token.family_retained_until(),
            )
            .await?;
            let outcome =
                if Self::insert(&mut transaction, &token, &family, "blacklisted").await? == 1 {
                    BlacklistOutcome::Blacklisted
                } else {
                    let state = Self::lock_token(&mut transaction, &token.jti)
                        .await?
                        .map(|row| row.state);
                    if state.as_deref() == Some("active") && !family_revoked {
                        sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE jti = $1",
                    )
                    .bind(&token.jti)
                    .execute(&mut *transaction)
                    .await
                    .map_err(unavailable)?;
                        Self::update_family(
                            &mut transaction,
                            &family,
                            token.family_retained_until(),
                            true,
                            0, // no clock here: erases nothing
                        )
                        .await?;
                        BlacklistOutcome::Blacklisted
                    } else {
                        BlacklistOutcome::AlreadyBlacklisted
                    }
                };
            transaction.commit().await.map_err(unavailable)?;
            Ok(outcome)
        })
    }

    fn state<'a>(
        &'a self,
        subject: &'a str,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<TokenState, StoreError>> {
        Box::pin(async move {
            let row: Option<(String, bool)> = sqlx::query_as(
                "SELECT t.state, COALESCE(f.revoked, FALSE)
                 FROM simplejwt_refresh_tokens t LEFT JOIN simplejwt_refresh_families f ON f.family = t.family
                 WHERE t.jti = $1 AND t.subject = $2",
            )
            .bind(jti)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            let family_revoked = row.as_ref().is_some_and(|(_, revoked)| *revoked);
            Ok(
                TokenState::from_stored(row.as_ref().map(|(state, _)| state.as_str()))?
                    .in_family(family_revoked),
            )
        })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let result = sqlx::query(
                "UPDATE simplejwt_refresh_families SET revoked = TRUE WHERE subject = $1 AND NOT revoked",
            )
            .bind(subject)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(result.rows_affected())
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let margin = to_sql(CLOCK_SKEW_MARGIN.as_secs());
            // Rows written by an earlier version have no keep_until.
            let result = sqlx::query(
                "DELETE FROM simplejwt_refresh_tokens WHERE keep_until <= $1
                    OR (keep_until IS NULL AND expires_at <= $1 - $2)",
            )
            .bind(to_sql(now))
            .bind(margin)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            sqlx::query("DELETE FROM simplejwt_refresh_families WHERE keep_until <= $1")
                .bind(to_sql(now))
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            sqlx::query(
                "UPDATE simplejwt_refresh_tokens SET sealed_successor = NULL, successor_until = NULL
                 WHERE successor_until <= $1 AND sealed_successor IS NOT NULL",
            )
            .bind(to_sql(now))
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(result.rows_affected())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// The CI database; a missing server fails the test, it is not skipped.
    pub(crate) fn database_url() -> String {
        std::env::var("TOWER_SIMPLEJWT_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance() {
        let store = PostgresTokenStore::connect(&database_url()).await.expect(
            "PostgreSQL must be running on 127.0.0.1:5432 for the postgres feature's tests",
        );
        crate::store::conformance::run(Arc::new(store)).await;
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

    /// A store on its own pool whose sessions are named `application_name`.
    async fn named(application_name: &str) -> PostgresTokenStore {
        use std::str::FromStr;
        let options = sqlx::postgres::PgConnectOptions::from_str(&database_url())
            .unwrap()
            .application_name(application_name);
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .expect("PostgreSQL must be running on 127.0.0.1:5432");
        PostgresTokenStore::from_pool(pool).await.unwrap()
    }

    /// Two connections: a rotation held at each checkpoint of its
    /// transaction, a revocation on another pool that must be seen waiting
    /// for the rotation's lock (`pg_stat_activity`) from the moment the
    /// family is locked until the commit; and the thief-and-victim race
    /// across two pools.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revocation_interleaved_with_rotation() {
        let revoker_name = format!("tsj-revoker-{:08x}", rand::random::<u32>());
        let rotator = named("tsj-rotator").await;
        let revoker = named(&revoker_name).await;
        let observer = rotator.pool().clone();
        let waiting: crate::store::conformance::WaitProbe = Arc::new(move || {
            let (observer, revoker_name) = (observer.clone(), revoker_name.clone());
            Box::pin(async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                        WHERE application_name = $1 AND wait_event_type = 'Lock')",
                )
                .bind(&revoker_name)
                .fetch_one(&observer)
                .await
                .unwrap_or(false)
            })
        });
        crate::store::conformance::interleavings(
            Arc::new(revoker.clone()),
            |hook| Arc::new(rotator.clone().with_pause_hook(hook)),
            &[
                Checkpoint::FamilyLocked,
                Checkpoint::TokenLocked,
                Checkpoint::Written,
            ],
            Some(waiting),
        )
        .await;
        crate::store::conformance::thief_and_victim(Arc::new(rotator), Arc::new(revoker), 15).await;
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        let error = PostgresTokenStore::connect("postgres://postgres@127.0.0.1:1/test")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }
}
