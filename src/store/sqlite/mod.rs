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
//! use tower_simplejwt::store::sqlite::SqliteTokenStore;
//! use tower_simplejwt::store::{RecordedToken, TokenState, TokenStore};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = std::env::temp_dir().join(format!("doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
//! let store = SqliteTokenStore::connect(&url).await?;
//! store.record(RecordedToken::new("j1", "42", 1_900_000_000)).await?;
//! assert_eq!(store.state("42", "j1").await?, TokenState::Active);
//! # Ok::<(), tower_simplejwt::store::StoreError>(())
//! # }).unwrap();
//! ```

use sqlx::sqlite::SqlitePool;

use super::{
    BlacklistOutcome, BoxFuture, PauseHook, RecordedToken, Rotation, RotationOutcome, StoreError,
    TokenState, TokenStore,
};
#[cfg(doc)]
use super::{Checkpoint, CLOCK_SKEW_MARGIN};
use crate::clock::SharedClock;

mod purge;
mod revocation;
mod rotation;
mod rows;
mod schema;
#[cfg(test)]
mod tests;

pub use schema::open_pool;

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
/// # Grace windows
///
/// A sealed successor's row keeps the end of its window in
/// `successor_until`, under a partial index of the rows that still hold
/// one: every rotation, [`TokenStore::erase_ended_windows`] (run by a
/// [`PurgeTask`](crate::store::PurgeTask)) and [`TokenStore::purge_expired`]
/// erase the ended ones with one probe of that index.
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

impl SqliteTokenStore {
    /// Opens the database at `url` (for example `sqlite://tokens.sqlite3`) and creates the schema.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = tower_simplejwt::store::sqlite::SqliteTokenStore::connect("sqlite::memory:").await?;
    /// # drop(store);
    /// # Ok::<(), tower_simplejwt::store::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::from_pool(open_pool(url).await?).await
    }

    /// Uses an existing pool (shared with the credentials module's
    /// `SqliteUserStore`, say) and creates the schema, upgrading an earlier
    /// one in place.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::sqlite::{open_pool, SqliteTokenStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let pool = open_pool("sqlite::memory:").await?;
    /// let store = SqliteTokenStore::from_pool(pool.clone()).await?;
    /// assert!(!store.pool().is_closed());
    /// # Ok::<(), tower_simplejwt::store::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, StoreError> {
        schema::create(&pool).await?;
        Ok(SqliteTokenStore { pool, pause: None })
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
}

impl TokenStore for SqliteTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut transaction = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(unavailable)?;
            rows::insert(&mut transaction, &token, &token.jti, "active").await?;
            rows::write_family(
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
        Box::pin(async move { revocation::blacklist(&self.pool, &token).await })
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
        Box::pin(async move { revocation::revoke_subject(&self.pool, subject).await })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { purge::purge_expired(&self.pool, now).await })
    }

    fn erase_ended_windows(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { purge::erase_ended_windows_in(&self.pool, now).await })
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
