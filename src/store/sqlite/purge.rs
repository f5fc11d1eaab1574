//! Erasing ended grace windows and purging expired records.

use sqlx::sqlite::SqlitePool;

use super::{to_sql, unavailable};
use crate::store::StoreError;

/// Erases the sealed successors whose grace window ended at or before `now`
/// (a probe of the partial index on `successor_until` when there are none).
pub(super) async fn erase_ended_windows(
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

/// Erases the ended windows in a transaction of its own.
pub(super) async fn erase_ended_windows_in(pool: &SqlitePool, now: u64) -> Result<u64, StoreError> {
    let mut transaction = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    let erased = erase_ended_windows(&mut transaction, now).await?;
    transaction.commit().await.map_err(unavailable)?;
    Ok(erased)
}

/// The most rows one purge transaction deletes, so that a big purge never
/// holds the write lock for long (writers wait at most one batch).
const BATCH: i64 = 1000;

/// Deletes up to [`BATCH`] rows of `table` kept until `now` or before, in a
/// transaction of its own; returns how many went.
async fn delete_batch(pool: &SqlitePool, table: &str, now: u64) -> Result<u64, StoreError> {
    let mut transaction = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    let statement = format!(
        "DELETE FROM {table} WHERE rowid IN
            (SELECT rowid FROM {table} WHERE keep_until <= ? LIMIT ?)"
    );
    let result = sqlx::query(&statement)
        .bind(to_sql(now))
        .bind(BATCH)
        .execute(&mut *transaction)
        .await
        .map_err(unavailable)?;
    transaction.commit().await.map_err(unavailable)?;
    Ok(result.rows_affected())
}

/// Deletes the rows of `table` kept until `now` or before, batch by batch,
/// until a batch finds fewer than [`BATCH`]; returns how many went.
async fn delete_all(pool: &SqlitePool, table: &str, now: u64) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let deleted = delete_batch(pool, table, now).await?;
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Deletes the token and family rows kept until `now` or before, in
/// transactions of at most [`BATCH`] rows each, and erases the ended
/// windows; returns how many token rows went.
pub(super) async fn purge_expired(pool: &SqlitePool, now: u64) -> Result<u64, StoreError> {
    let purged = delete_all(pool, "simplejwt_refresh_tokens", now).await?;
    delete_all(pool, "simplejwt_refresh_families", now).await?;
    erase_ended_windows_in(pool, now).await?;
    Ok(purged)
}
