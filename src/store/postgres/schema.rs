//! The PostgreSQL schema: creation under an advisory lock, and the in-place
//! upgrade of a database of an earlier version.

use sqlx::postgres::PgPool;

use super::unavailable;
use crate::store::{StoreError, CLOCK_SKEW_MARGIN, MAX_TIMESTAMP};

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

/// Creates the schema in `pool`'s database, upgrading an earlier one in
/// place (see "Upgrading" on [`PostgresTokenStore`](super::PostgresTokenStore)).
pub(super) async fn create(pool: &PgPool) -> Result<(), StoreError> {
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
        return Ok(());
    }
    sqlx::raw_sql(SCHEMA)
        .execute(&mut *transaction)
        .await
        .map_err(unavailable)?;
    if !families_existed {
        upgrade(&mut transaction).await?;
    }
    sqlx::raw_sql(INDEXES)
        .execute(&mut *transaction)
        .await
        .map_err(unavailable)?;
    transaction.commit().await.map_err(unavailable)
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
