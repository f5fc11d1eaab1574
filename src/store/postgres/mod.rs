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
//! use tower_simplejwt::store::postgres::PostgresTokenStore;
//! use tower_simplejwt::store::{RecordedToken, TokenState, TokenStore};
//!
//! # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
//! let store = PostgresTokenStore::connect("postgres://postgres@127.0.0.1/test").await?;
//! store.record(RecordedToken::new("j1", "42", 1_900_000_000)).await?;
//! assert_eq!(store.state("42", "j1").await?, TokenState::Active);
//! # Ok(()) }
//! ```

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{
    BlacklistOutcome, BoxFuture, PauseHook, RecordedToken, Rotation, RotationOutcome, StoreError,
    TokenState, TokenStore,
};
#[cfg(doc)]
use super::{Checkpoint, CLOCK_SKEW_MARGIN, MAX_TIMESTAMP};
use crate::clock::SharedClock;

mod purge;
mod revocation;
mod rotation;
mod rows;
mod schema;
#[cfg(test)]
mod tests;

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
/// # Grace windows
///
/// A sealed successor's row keeps the end of its window in
/// `successor_until`, under a partial index of the rows that still hold
/// one. [`TokenStore::erase_ended_windows`] (run by a
/// [`PurgeTask`](crate::store::PurgeTask)) and [`TokenStore::purge_expired`]
/// erase the ended ones, skipping rows a rotation in flight holds; each
/// rotation also erases up to 64 of them.
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

impl PostgresTokenStore {
    /// Connects to `url` (for example `postgres://user@host/db`) and creates the schema.
    ///
    /// The pool gives up on a connection after 3 seconds, so an unreachable
    /// server turns into [`StoreError::Unavailable`] (503) quickly.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), tower_simplejwt::store::StoreError> {
    /// let store = tower_simplejwt::store::postgres::PostgresTokenStore::connect("postgres://postgres@127.0.0.1/test").await?;
    /// # drop(store);
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tower_simplejwt::store::postgres::PostgresTokenStore;
    ///
    /// # async fn example(pool: sqlx::PgPool) -> Result<(), tower_simplejwt::store::StoreError> {
    /// let store = PostgresTokenStore::from_pool(pool).await?;
    /// assert!(!store.pool().is_closed());
    /// # Ok(()) }
    /// ```
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        schema::create(&pool).await?;
        Ok(PostgresTokenStore { pool, pause: None })
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
}

impl TokenStore for PostgresTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut transaction = self.pool.begin().await.map_err(unavailable)?;
            rows::lock_family(
                &mut transaction,
                &token.jti,
                &token.subject,
                token.retained_until(),
            )
            .await?;
            rows::insert(&mut transaction, &token, &token.jti, "active").await?;
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
        Box::pin(async move { revocation::blacklist(&self.pool, &token).await })
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
        Box::pin(async move { revocation::revoke_subject(&self.pool, subject).await })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { purge::purge_expired(&self.pool, now).await })
    }

    fn erase_ended_windows(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { purge::erase_ended_windows(&self.pool, now).await })
    }
}
