//! A token store in SQLite (sqlx), for single-server deployments and the example server.
//!
//! The schema is created on connect. A rotation is one `BEGIN IMMEDIATE`
//! transaction: the database's write lock is taken before the presented
//! token and its family are read, so two connections (or two processes on
//! one file) can never both rotate it, and a revocation never lands inside
//! a rotation. The file runs in WAL mode with a busy timeout.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use tower_simplejwt::store::sqlite::SqliteTokenStore;
//! use tower_simplejwt::store::conformance;
//!
//! # tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(async {
//! let dir = std::env::temp_dir().join(format!("doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
//! let store = SqliteTokenStore::connect(&url).await.unwrap();
//! conformance::run(Arc::new(store)).await;
//! # });
//! ```

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row as _;

use super::rules::{next_step, stored_state, successor_until, Step};
use super::{
    warn_reuse, BlacklistOutcome, BoxFuture, Checkpoint, PauseHook, RecordedToken, Refusal,
    Rotation, RotationOutcome, StoreError, TokenState, TokenStore, CLOCK_SKEW_MARGIN,
    MAX_TIMESTAMP,
};
use crate::clock::SharedClock;

/// Opens (creating if missing) the SQLite database at `url` with the
/// settings every store of this crate expects: WAL, a busy timeout, foreign keys.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let pool = tower_simplejwt::store::sqlite::open_pool("sqlite::memory:").await.unwrap();
/// # drop(pool);
/// # });
/// ```
pub async fn open_pool(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(StoreError::unavailable)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    SqlitePoolOptions::new()
        // One connection keeps an in-memory database alive and shared.
        .max_connections(if in_memory { 1 } else { 8 })
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout(if in_memory {
            None
        } else {
            Some(Duration::from_secs(600))
        })
        .max_lifetime(if in_memory {
            None
        } else {
            Some(Duration::from_secs(1800))
        })
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(StoreError::unavailable)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS simplejwt_refresh_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    family TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'used', 'blacklisted')),
    rotated_at INTEGER,
    keep_until INTEGER,
    sealed_successor TEXT,
    successor_until INTEGER
);
CREATE TABLE IF NOT EXISTS simplejwt_refresh_families (
    family TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    keep_until INTEGER NOT NULL
);
";

const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_family ON simplejwt_refresh_tokens (family);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_subject ON simplejwt_refresh_tokens (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_keep_until ON simplejwt_refresh_tokens (keep_until);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_successor_until ON simplejwt_refresh_tokens (successor_until)
    WHERE sealed_successor IS NOT NULL;
CREATE INDEX IF NOT EXISTS simplejwt_refresh_families_subject ON simplejwt_refresh_families (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_families_keep_until ON simplejwt_refresh_families (keep_until);
";

/// Refresh-token records in SQLite.
///
/// Cloning is cheap and shares the connection pool.
///
/// # Revocation against rotation
///
/// Every rotation, logout and revocation is one `BEGIN IMMEDIATE`
/// transaction: SQLite's single write lock is taken before the first read,
/// so these steps run one after the other even across processes sharing the
/// file. A revocation marks the family's row; a rotation that follows reads
/// that row and refuses; a rotation that preceded it inserted its successor
/// in the family, which the revoked row kills. No order lets a successor
/// escape.
///
/// # Upgrading
///
/// Opening a database of an earlier version adds the new columns, creates
/// the families table and fills it from the tokens (once, in the same
/// transaction), keeps old records until `exp` plus [`CLOCK_SKEW_MARGIN`],
/// and erases the clear-text successors the old `successor_token` column
/// held (a replay within the grace window of a rotation made before the
/// upgrade is then refused, not answered).
#[derive(Debug, Clone)]
pub struct SqliteTokenStore {
    pool: SqlitePool,
    pause: Option<PauseHook>,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::unavailable(error)
}

/// SQLite integers are signed: dates beyond `i64::MAX` are stored as `i64::MAX`.
fn to_sql(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// A presented token's row and its family's state, read in the rotation's transaction.
struct Row {
    family: String,
    state: String,
    sealed_successor: Option<String>,
    successor_until: Option<i64>,
    rotated_at: Option<i64>,
    family_revoked: bool,
}

impl SqliteTokenStore {
    /// Opens the database at `url` (for example `sqlite://tokens.sqlite3`) and creates the schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::from_pool(open_pool(url).await?).await
    }

    /// Uses an existing pool (shared with a [`SqliteUserStore`](crate::credentials::SqliteUserStore),
    /// say) and creates the schema, upgrading an earlier one in place.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        let mut transaction = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)?;
        let families_existed: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'simplejwt_refresh_families')",
        )
        .fetch_one(&mut *transaction)
        .await
        .map_err(unavailable)?;
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
        Ok(SqliteTokenStore { pool, pause: None })
    }

    /// Brings a table of an earlier version to this one (see "Upgrading").
    async fn upgrade(connection: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info('simplejwt_refresh_tokens')")
                .fetch_all(&mut *connection)
                .await
                .map_err(unavailable)?;
        let has = |name: &str| columns.iter().any(|column| column == name);
        let mut statements = Vec::new();
        for (column, kind) in [
            ("keep_until", "INTEGER"),
            ("sealed_successor", "TEXT"),
            ("successor_until", "INTEGER"),
        ] {
            if !has(column) {
                statements.push(format!(
                    "ALTER TABLE simplejwt_refresh_tokens ADD COLUMN {column} {kind};"
                ));
            }
        }
        if has("successor_token") {
            statements.push(
                "UPDATE simplejwt_refresh_tokens SET successor_token = NULL WHERE successor_token IS NOT NULL;"
                    .into(),
            );
        }
        let margin = CLOCK_SKEW_MARGIN.as_secs();
        // The old rows' leeway is not known; `exp` is clamped so the sum stays an integer.
        let latest = MAX_TIMESTAMP - margin;
        statements.push(format!(
            "UPDATE simplejwt_refresh_tokens SET keep_until = MIN(expires_at, {latest}) + {margin} WHERE keep_until IS NULL;
             INSERT OR IGNORE INTO simplejwt_refresh_families (family, subject, revoked, keep_until)
                 SELECT family, MIN(subject), 0, MAX(keep_until) FROM simplejwt_refresh_tokens GROUP BY family;"
        ));
        sqlx::raw_sql(&statements.concat())
            .execute(connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The same store whose rotations await `hook` at each [`Checkpoint`] (for interleaving tests).
    #[doc(hidden)]
    pub fn with_pause_hook(mut self, hook: PauseHook) -> Self {
        self.pause = Some(hook);
        self
    }

    async fn insert(
        executor: &mut sqlx::SqliteConnection,
        token: &RecordedToken,
        family: &str,
        state: &str,
    ) -> Result<u64, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, keep_until) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&token.jti)
        .bind(&token.subject)
        .bind(family)
        .bind(to_sql(token.stored_expires_at()))
        .bind(state)
        .bind(to_sql(token.retained_until()))
        .execute(executor)
        .await
        .map_err(unavailable)?;
        Ok(inserted.rows_affected())
    }

    /// Creates the family if missing, keeps it at least until `keep_until`, and revokes it when `revoke`.
    /// Returns whether it was revoked by this call.
    async fn write_family(
        connection: &mut sqlx::SqliteConnection,
        family: &str,
        subject: &str,
        keep_until: u64,
        revoke: bool,
    ) -> Result<bool, StoreError> {
        let was_revoked: Option<bool> = sqlx::query_scalar(
            "SELECT revoked <> 0 FROM simplejwt_refresh_families WHERE family = ?",
        )
        .bind(family)
        .fetch_optional(&mut *connection)
        .await
        .map_err(unavailable)?;
        sqlx::query(
            "INSERT INTO simplejwt_refresh_families (family, subject, revoked, keep_until) VALUES (?, ?, ?, ?)
             ON CONFLICT (family) DO UPDATE SET keep_until = MAX(keep_until, excluded.keep_until),
                 revoked = MAX(revoked, excluded.revoked)",
        )
        .bind(family)
        .bind(subject)
        .bind(i64::from(revoke))
        .bind(to_sql(keep_until))
        .execute(connection)
        .await
        .map_err(unavailable)?;
        Ok(revoke && was_revoked != Some(true))
    }

    async fn read(
        connection: &mut sqlx::SqliteConnection,
        jti: &str,
    ) -> Result<Option<Row>, StoreError> {
        let row = sqlx::query(
            "SELECT t.family, t.state, t.sealed_successor, t.successor_until, t.rotated_at,
                    COALESCE(f.revoked, 0) <> 0 AS family_revoked
             FROM simplejwt_refresh_tokens t LEFT JOIN simplejwt_refresh_families f ON f.family = t.family
             WHERE t.jti = ?",
        )
        .bind(jti)
        .fetch_optional(connection)
        .await
        .map_err(unavailable)?;
        row.map(|row| {
            Ok(Row {
                family: row.try_get("family").map_err(unavailable)?,
                state: row.try_get("state").map_err(unavailable)?,
                sealed_successor: row.try_get("sealed_successor").map_err(unavailable)?,
                successor_until: row.try_get("successor_until").map_err(unavailable)?,
                rotated_at: row.try_get("rotated_at").map_err(unavailable)?,
                family_revoked: row.try_get("family_revoked").map_err(unavailable)?,
            })
        })
        .transpose()
    }

    async fn rotate_in(
        &self,
        connection: &mut sqlx::SqliteConnection,
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
        // The write lock is held from here: read the clock now, not before.
        let now = clock.now();
        let record = Self::read(connection, &presented.jti).await?;
        PauseHook::at(&self.pause, Checkpoint::FamilyLocked).await;
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
        let family_revoked = record.as_ref().is_some_and(|row| row.family_revoked);
        let outcome = match next_step(stored, family_revoked, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(sealed_successor) => RotationOutcome::Replayed { sealed_successor },
            Step::Reuse { revoke_family } => {
                let family = record.map(|row| row.family).unwrap_or_default();
                sqlx::query(
                    "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted', sealed_successor = NULL, successor_until = NULL WHERE jti = ?",
                )
                .bind(&presented.jti)
                .execute(&mut *connection)
                .await
                .map_err(unavailable)?;
                let revoked = revoke_family
                    && Self::write_family(
                        connection,
                        &family,
                        &presented.subject,
                        presented
                            .family_retained_until()
                            .max(successor.retained_until()),
                        true,
                    )
                    .await?;
                warn_reuse(&presented.jti, &presented.subject, &family, revoked);
                RotationOutcome::Refused(Refusal::Reused)
            }
            Step::AdoptAndRotate | Step::Rotate => {
                let family = match record {
                    Some(row) => row.family,
                    None => {
                        Self::insert(connection, &presented, &presented.jti, "active").await?;
                        presented.jti.clone()
                    }
                };
                if rules.blacklist_after_rotation {
                    let until = successor_until(&rules, sealed_successor.as_deref(), now);
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'used', rotated_at = ?, sealed_successor = ?, successor_until = ? WHERE jti = ?",
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
                Self::write_family(
                    connection,
                    &family,
                    &presented.subject,
                    successor.retained_until().max(presented.retained_until()),
                    false,
                )
                .await?;
                RotationOutcome::Rotated
            }
        };
        Self::erase_ended_windows(connection, now).await?;
        PauseHook::at(&self.pause, Checkpoint::Written).await;
        Ok(outcome)
    }

    /// Erases the sealed successors whose grace window has ended (an index
    /// probe when there are none).
    async fn erase_ended_windows(
        connection: &mut sqlx::SqliteConnection,
        now: u64,
    ) -> Result<u64, StoreError> {
        let erased = sqlx::query(
            "UPDATE simplejwt_refresh_tokens SET sealed_successor = NULL, successor_until = NULL
             WHERE successor_until <= ? AND sealed_successor IS NOT NULL",
        )
        .bind(to_sql(now))
        .execute(connection)
        .await
        .map_err(unavailable)?;
        Ok(erased.rows_affected())
    }
}

impl TokenStore for SqliteTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut transaction = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(unavailable)?;
            Self::insert(&mut transaction, &token, &token.jti, "active").await?;
            Self::write_family(
                &mut transaction,
                &token.jti,
                &token.subject,
                token.retained_until(),
                false,
            )
            .await?;
            transaction.commit().await.map_err(unavailable)
        })
    }

    fn rotate(
        &self,
        rotation: Rotation,
        clock: SharedClock,
    ) -> BoxFuture<'_, Result<RotationOutcome, StoreError>> {
        Box::pin(async move {
            let mut transaction = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(unavailable)?;
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
            let mut transaction = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(unavailable)?;
            let outcome = match Self::read(&mut transaction, &token.jti).await? {
                None => {
                    Self::insert(&mut transaction, &token, &token.jti, "blacklisted").await?;
                    BlacklistOutcome::Blacklisted
                }
                Some(row) if row.state == "active" && !row.family_revoked => {
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE jti = ?",
                    )
                    .bind(&token.jti)
                    .execute(&mut *transaction)
                    .await
                    .map_err(unavailable)?;
                    Self::write_family(
                        &mut transaction,
                        &row.family,
                        &token.subject,
                        token.family_retained_until(),
                        true,
                    )
                    .await?;
                    BlacklistOutcome::Blacklisted
                }
                Some(_) => BlacklistOutcome::AlreadyBlacklisted,
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
                "SELECT t.state, COALESCE(f.revoked, 0) <> 0
                 FROM simplejwt_refresh_tokens t LEFT JOIN simplejwt_refresh_families f ON f.family = t.family
                 WHERE t.jti = ? AND t.subject = ?",
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
                "UPDATE simplejwt_refresh_families SET revoked = 1 WHERE subject = ? AND revoked = 0",
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
            let mut transaction = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(unavailable)?;
            let result = sqlx::query("DELETE FROM simplejwt_refresh_tokens WHERE keep_until <= ?")
                .bind(to_sql(now))
                .execute(&mut *transaction)
                .await
                .map_err(unavailable)?;
            sqlx::query("DELETE FROM simplejwt_refresh_families WHERE keep_until <= ?")
                .bind(to_sql(now))
                .execute(&mut *transaction)
                .await
                .map_err(unavailable)?;
            Self::erase_ended_windows(&mut transaction, now).await?;
            transaction.commit().await.map_err(unavailable)?;
            Ok(result.rows_affected())
        })
    }
}

/// A fresh directory for a test, and the URL of a database file in it.
#[cfg(test)]
pub(crate) fn temp_url(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!(
        "tower-simplejwt-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
    (dir, url)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_on_a_file() {
        let (dir, url) = temp_url("conformance");
        crate::store::conformance::run(Arc::new(SqliteTokenStore::connect(&url).await.unwrap()))
            .await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Rotations held at each checkpoint of their `BEGIN IMMEDIATE`
    /// transaction while a revocation runs on another pool of the same file
    /// (it must wait for the write lock); and the thief-and-victim race
    /// across two pools.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revocation_interleaved_with_rotation() {
        let (dir, url) = temp_url("interleave");
        let store = SqliteTokenStore::connect(&url).await.unwrap();
        let other = SqliteTokenStore::connect(&url).await.unwrap();
        crate::store::conformance::interleavings(
            Arc::new(other.clone()),
            |hook| Arc::new(store.clone().with_pause_hook(hook)),
            &[
                Checkpoint::Begun,
                Checkpoint::FamilyLocked,
                Checkpoint::TokenLocked,
                Checkpoint::Written,
            ],
            None,
        )
        .await;
        crate::store::conformance::thief_and_victim(Arc::new(store), Arc::new(other), 15).await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_in_memory() {
        crate::store::conformance::run(Arc::new(
            SqliteTokenStore::connect("sqlite::memory:").await.unwrap(),
        ))
        .await;
    }

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
        let keep_until: i64 = sqlx::query_scalar(
            "SELECT keep_until FROM simplejwt_refresh_tokens WHERE jti = 'current'",
        )
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
        let huge: i64 = sqlx::query_scalar(
            "SELECT keep_until FROM simplejwt_refresh_tokens WHERE jti = 'huge'",
        )
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
}
