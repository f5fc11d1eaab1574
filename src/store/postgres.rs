//! A token store in PostgreSQL (sqlx), shared by any number of server processes.
//!
//! The schema is created on connect, under a transaction-level advisory lock
//! so that processes starting together do not race. A rotation is one
//! transaction that locks the presented token's row (`SELECT … FOR UPDATE`)
//! before reading it, so two servers behind a load balancer can never both
//! rotate one token: the second waits, then sees it used.
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

use super::rules::{next_step, stored_state, Step};
use super::{
    warn_reuse, BlacklistOutcome, BoxFuture, RecordedToken, Refusal, Rotation, RotationOutcome,
    StoreError, TokenState, TokenStore,
};
use crate::clock::SharedClock;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS simplejwt_refresh_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    family TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'used', 'blacklisted')),
    successor_token TEXT,
    rotated_at BIGINT
);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_family ON simplejwt_refresh_tokens (family);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_subject ON simplejwt_refresh_tokens (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_expires_at ON simplejwt_refresh_tokens (expires_at);
";

/// An arbitrary constant naming this crate's schema lock.
const SCHEMA_LOCK: i64 = 0x7369_6d70_6c65_6a77;

/// Refresh-token records in PostgreSQL. Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub struct PostgresTokenStore {
    pool: PgPool,
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
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await
            .map_err(unavailable)?;
        Self::from_pool(pool).await
    }

    /// Uses an existing pool and creates the schema.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        let mut transaction = pool.begin().await.map_err(unavailable)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        sqlx::raw_sql(SCHEMA)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
        transaction.commit().await.map_err(unavailable)?;
        Ok(PostgresTokenStore { pool })
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn insert(
        connection: &mut sqlx::PgConnection,
        token: &RecordedToken,
        family: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&token.jti)
        .bind(&token.subject)
        .bind(family)
        .bind(to_sql(token.expires_at))
        .bind(state)
        .execute(connection)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn lock_row(
        connection: &mut sqlx::PgConnection,
        jti: &str,
    ) -> Result<Option<(String, String, Option<String>, Option<i64>)>, StoreError> {
        let row = sqlx::query(
            "SELECT family, state, successor_token, rotated_at FROM simplejwt_refresh_tokens WHERE jti = $1 FOR UPDATE",
        )
        .bind(jti)
        .fetch_optional(connection)
        .await
        .map_err(unavailable)?;
        row.map(|row| {
            Ok((
                row.try_get("family").map_err(unavailable)?,
                row.try_get("state").map_err(unavailable)?,
                row.try_get("successor_token").map_err(unavailable)?,
                row.try_get("rotated_at").map_err(unavailable)?,
            ))
        })
        .transpose()
    }

    async fn rotate_in(
        connection: &mut sqlx::PgConnection,
        rotation: Rotation,
        clock: SharedClock,
    ) -> Result<RotationOutcome, StoreError> {
        let Rotation {
            presented,
            successor,
            successor_token,
            rules,
        } = rotation;
        let mut record = Self::lock_row(connection, &presented.jti).await?;
        if record.is_none() && rules.accept_unrecorded {
            // Adopt the unrecorded token; a concurrent adopter makes this a no-op,
            // and the lock below then waits for it and sees its outcome.
            Self::insert(connection, &presented, &presented.jti, "active").await?;
            record = Self::lock_row(connection, &presented.jti).await?;
        }
        // The row lock is held from here: read the clock now, not before.
        let now = clock.now();
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
                    ("family = $1", &family)
                } else {
                    ("jti = $1", &presented.jti)
                };
                let revoked = sqlx::query(&format!(
                    "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE {scope} AND state <> 'blacklisted'"
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
                let Some((family, ..)) = record else {
                    return Err(StoreError::Corrupt(format!(
                        "adopted token {} vanished",
                        presented.jti
                    )));
                };
                if rules.blacklist_after_rotation {
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'used', successor_token = $1, rotated_at = $2 WHERE jti = $3",
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

impl TokenStore for PostgresTokenStore {
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
            let mut transaction = self.pool.begin().await.map_err(unavailable)?;
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
            let mut transaction = self.pool.begin().await.map_err(unavailable)?;
            Self::insert(&mut transaction, &token, &token.jti, "active").await?;
            let changed = sqlx::query(
                "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE jti = $1 AND state = 'active'",
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
                "SELECT state FROM simplejwt_refresh_tokens WHERE jti = $1 AND subject = $2",
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
                "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted' WHERE subject = $1 AND state = 'active'",
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
            let result = sqlx::query("DELETE FROM simplejwt_refresh_tokens WHERE expires_at <= $1")
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

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        let error = PostgresTokenStore::connect("postgres://postgres@127.0.0.1:1/test")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }
}
