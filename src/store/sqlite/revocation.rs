//! Logging a token out and revoking a subject.

use sqlx::sqlite::SqlitePool;

use super::rows::{insert, read, write_family};
use super::unavailable;
use crate::store::{BlacklistOutcome, RecordedToken, StoreError};

/// Logs `token` out in one `BEGIN IMMEDIATE` transaction: an unrecorded
/// token is recorded blacklisted; an active or used one is blacklisted (a
/// used one's sealed successor is erased) and its family revoked; only the
/// active one is news.
pub(super) async fn blacklist(
    pool: &SqlitePool,
    token: &RecordedToken,
) -> Result<BlacklistOutcome, StoreError> {
    let mut transaction = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    let outcome = match read(&mut transaction, &token.jti).await? {
        None => {
            insert(&mut transaction, token, &token.jti, "blacklisted").await?;
            BlacklistOutcome::Blacklisted
        }
        Some(row) if matches!(row.state.as_str(), "active" | "used") && !row.family_revoked => {
            sqlx::query(
                "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted', sealed_successor = NULL, successor_until = NULL
                 WHERE jti = ?",
            )
            .bind(&token.jti)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
            write_family(
                &mut transaction,
                &row.family,
                &token.subject,
                token.family_retained_until(),
                true,
            )
            .await?;
            if row.state == "active" {
                BlacklistOutcome::Blacklisted
            } else {
                BlacklistOutcome::AlreadyBlacklisted
            }
        }
        Some(_) => BlacklistOutcome::AlreadyBlacklisted,
    };
    transaction.commit().await.map_err(unavailable)?;
    Ok(outcome)
}

/// Revokes every family of `subject` that is not revoked yet; returns how many.
pub(super) async fn revoke_subject(pool: &SqlitePool, subject: &str) -> Result<u64, StoreError> {
    let result = sqlx::query(
        "UPDATE simplejwt_refresh_families SET revoked = 1 WHERE subject = ? AND revoked = 0",
    )
    .bind(subject)
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(result.rows_affected())
}
