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

/// The most rows one purge statement deletes, so that a big purge never
/// holds many row locks for long (each statement is a transaction).
const BATCH: i64 = 1000;

/// Deletes up to [`BATCH`] token rows kept until `now` or before, skipping
/// the rows a rotation in flight holds; returns how many went.
async fn delete_token_batch(pool: &PgPool, now: u64) -> Result<u64, StoreError> {
    let margin = to_sql(CLOCK_SKEW_MARGIN.as_secs());
    // Rows written by an earlier version have no keep_until.
    let result = sqlx::query(
        "DELETE FROM simplejwt_refresh_tokens WHERE jti IN
            (SELECT jti FROM simplejwt_refresh_tokens
             WHERE keep_until <= $1 OR (keep_until IS NULL AND expires_at <= $1 - $2)
             LIMIT $3 FOR UPDATE SKIP LOCKED)",
    )
    .bind(to_sql(now))
    .bind(margin)
    .bind(BATCH)
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(result.rows_affected())
}

/// Deletes up to [`BATCH`] family rows kept until `now` or before, skipping
/// the rows a rotation in flight holds; returns how many went.
async fn delete_family_batch(pool: &PgPool, now: u64) -> Result<u64, StoreError> {
    let result = sqlx::query(
        "DELETE FROM simplejwt_refresh_families WHERE family IN
            (SELECT family FROM simplejwt_refresh_families WHERE keep_until <= $1
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(to_sql(now))
    .bind(BATCH)
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(result.rows_affected())
}

/// Deletes the token and family rows kept until `now` or before, in
/// statements of at most [`BATCH`] rows each (looping until a batch finds
/// fewer), and erases the ended windows; returns how many token rows went.
pub(super) async fn purge_expired(pool: &PgPool, now: u64) -> Result<u64, StoreError> {
    let mut purged = 0;
    loop {
        let deleted = delete_token_batch(pool, now).await?;
        purged += deleted;
        if deleted < BATCH as u64 {
            break;
        }
    }
    while delete_family_batch(pool, now).await? == BATCH as u64 {}
    erase_ended_windows(pool, now).await?;
    Ok(purged)
}
