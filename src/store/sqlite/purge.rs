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

/// Deletes the token and family rows kept until `now` or before, and erases
/// the ended windows; returns how many token rows went.
pub(super) async fn purge_expired(pool: &SqlitePool, now: u64) -> Result<u64, StoreError> {
    let mut transaction = pool
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
    erase_ended_windows(&mut transaction, now).await?;
    transaction.commit().await.map_err(unavailable)?;
    Ok(result.rows_affected())
}
