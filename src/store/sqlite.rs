//! A token store in SQLite (sqlx), for single-server deployments and the example server.
//!
//! The schema is created on connect. A rotation is one `BEGIN IMMEDIATE`
//! transaction: the database's write lock is taken before the presented
//! token is read, so two connections (or two processes on one file) can
//! never both rotate it. The file runs in WAL mode with a busy timeout.
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
use sqlx::Row;

use super::rules::{next_step, stored_state, Step};
use super::{
    warn_reuse, BlacklistOutcome, BoxFuture, RecordedToken, Refusal, Rotation, RotationOutcome,
    StoreError, TokenState, TokenStore,
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
    successor_token TEXT,
    rotated_at INTEGER
);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_family ON simplejwt_refresh_tokens (family);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_subject ON simplejwt_refresh_tokens (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_expires_at ON simplejwt_refresh_tokens (expires_at);
";

/// Refresh-token records in SQLite.
///
/// Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct SqliteTokenStore {
    pool: SqlitePool,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::unavailable(error)
}

/// SQLite integers are signed: dates beyond `i64::MAX` are stored as `i64::MAX`.
fn to_sql(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

impl SqliteTokenStore {
    /// Opens the database at `url` (for example `sqlite://tokens.sqlite3`) and creates the schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::from_pool(open_pool(url).await?).await
    }

    /// Uses an existing pool (shared with a [`SqliteUserStore`](crate::credentials::SqliteUserStore),
    /// say) and creates the schema.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .map_err(unavailable)?;
        Ok(SqliteTokenStore { pool })
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn insert(
        executor: &mut sqlx::SqliteConnection,
        token: &RecordedToken,
        family: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&token.jti)
        .bind(&token.subject)
        .bind(family)
        .bind(to_sql(token.expires_at))
        .bind(state)
        .execute(executor)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn rotate_in(
        connection: &mut sqlx::SqliteConnection,
        rotation: Rotation,
        clock: SharedClock,
    ) -> Result<RotationOutcome, StoreError> {
        let Rotation {
            presented,
            successor,
            successor_token,
            rules,
        } = rotation;
        // The write lock is held from here: read the clock now, not before.
        let now = clock.now();
        let row = sqlx::query(
            "SELECT family, state, successor_token, rotated_at FROM simplejwt_refresh_tokens WHERE jti = ?",
        )
        .bind(&presented.jti)
        .fetch_optional(&mut *connection)
        .await
        .map_err(unavailable)?;
        let record = match row {
            Some(row) => Some((
                row.try_get::<String, _>("family").map_err(unavailable)?,
                row.try_get::<String, _>("state").map_err(unavailable)?,
                row.try_get::<Option<String>, _>("successor_token")
                    .map_err(unavailable)?,
                row.try_get::<Option<i64>, _>("rotated_at")
                    .map_err(unavailable)?,
            )),
            None => None,
        };
        let stored = match &record {
            None => None,
            Some((_, state, successor, rotated_at)) => {
                Some(stored_state(&presented.jti, state, successor, *rotated_at)?)
            }
        };
        match next_step(stored, &rules, now) {
            Step::Refuse(refusal) => Ok(RotationOutcome::Refused(refusal)),
            Step::Replay(successor_token) => Ok(RotationOutcome::Replayed { successor_token }),
            Step::Reuse { revoke_family } => {
                let family = record.map(|(family, ..)| family).unwrap_or_default();
                let (scope, key) = if revoke_family {
                    ("family = ?", &family)
                } else {
                    ("jti = ?", &presented.jti)
                };
                let revoked = sqlx::query(&format!(
                    "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE {scope} AND state != 'blacklisted'"
                ))
                .bind(key)
                .execute(&mut *connection)
                .await
                .map_err(unavailable)?
                .rows_affected();
                warn_reuse(
                    &presented.jti,
                    &presented.subject,
                    &family,
                    revoked.saturating_sub(1),
                );
                Ok(RotationOutcome::Refused(Refusal::Reused))
            }
            Step::AdoptAndRotate | Step::Rotate => {
                let family = match record {
                    Some((family, ..)) => family,
                    None => {
                        Self::insert(connection, &presented, &presented.jti, "active").await?;
                        presented.jti.clone()
                    }
                };
                if rules.blacklist_after_rotation {
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'used', successor_token = ?, rotated_at = ? WHERE jti = ?",
                    )
                    .bind(&successor_token)
                    .bind(to_sql(now))
                    .bind(&presented.jti)
                    .execute(&mut *connection)
                    .await
                    .map_err(unavailable)?;
                }
                Self::insert(connection, &successor, &family, "active").await?;
                Ok(RotationOutcome::Rotated)
            }
        }
    }
}

impl TokenStore for SqliteTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut connection = self.pool.acquire().await.map_err(unavailable)?;
            Self::insert(&mut connection, &token, &token.jti, "active").await
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
            let outcome = Self::rotate_in(&mut transaction, rotation, clock).await?;
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
            Self::insert(&mut transaction, &token, &token.jti, "active").await?;
            let changed = sqlx::query(
                "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE jti = ? AND state = 'active'",
            )
            .bind(&token.jti)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?
            .rows_affected();
            transaction.commit().await.map_err(unavailable)?;
            Ok(if changed == 1 {
                BlacklistOutcome::Blacklisted
            } else {
                BlacklistOutcome::AlreadyBlacklisted
            })
        })
    }

    fn state<'a>(
        &'a self,
        subject: &'a str,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<TokenState, StoreError>> {
        Box::pin(async move {
            let state: Option<String> = sqlx::query_scalar(
                "SELECT state FROM simplejwt_refresh_tokens WHERE jti = ? AND subject = ?",
            )
            .bind(jti)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            TokenState::from_stored(state.as_deref())
        })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let result = sqlx::query(
                "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE subject = ? AND state = 'active'",
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
            let result = sqlx::query("DELETE FROM simplejwt_refresh_tokens WHERE expires_at <= ?")
                .bind(to_sql(now))
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_in_memory() {
        crate::store::conformance::run(Arc::new(
            SqliteTokenStore::connect("sqlite::memory:").await.unwrap(),
        ))
        .await;
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
