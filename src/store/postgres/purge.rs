//! Erasing ended grace windows and purging expired records.

use sqlx::postgres::PgPool;

use super::{to_sql, unavailable};
use crate::store::{StoreError, CLOCK_SKEW_MARGIN};

/// Erases the sealed successors whose grace window ended at or before `now`:
/// a range of the partial index on `successor_until`, skipping the rows
/// that rotations in flight hold (they are erased at the next call).
pub(super) async fn erase_ended_windows(pool: &PgPool, now: u64) -> Result<u64, StoreError> {
    let erased = sqlx::query(
        "UPDATE simplejwt_refresh_tokens SET sealed_successor = NULL, successor_until = NULL
         WHERE jti IN (SELECT jti FROM simplejwt_refresh_tokens
             WHERE successor_until <= $1 AND sealed_successor IS NOT NULL
             ORDER BY successor_until FOR UPDATE SKIP LOCKED)",
    )
    .bind(to_sql(now))
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(erased.rows_affected())
}

/// Deletes the token and family rows kept until `now` or before, and erases
/// the ended windows; returns how many token rows went.
pub(super) async fn purge_expired(pool: &PgPool, now: u64) -> Result<u64, StoreError> {
    let margin = to_sql(CLOCK_SKEW_MARGIN.as_secs());
    // Rows written by an earlier version have no keep_until.
    let result = sqlx::query(
        "DELETE FROM simplejwt_refresh_tokens WHERE keep_until <= $1
            OR (keep_until IS NULL AND expires_at <= $1 - $2)",
    )
    .bind(to_sql(now))
    .bind(margin)
    .execute(pool)
    .await
    .map_err(unavailable)?;
    sqlx::query("DELETE FROM simplejwt_refresh_families WHERE keep_until <= $1")
        .bind(to_sql(now))
        .execute(pool)
        .await
        .map_err(unavailable)?;
    erase_ended_windows(pool, now).await?;
    Ok(result.rows_affected())
}
