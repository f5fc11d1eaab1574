//! Logging a token out and revoking a subject.

use sqlx::postgres::PgPool;

use super::rows::{family_of, insert, lock_family, lock_token, update_family};
use super::unavailable;
use crate::store::{BlacklistOutcome, RecordedToken, StoreError};

/// Logs `token` out in one transaction, under its family's row lock: an
/// unrecorded token is recorded blacklisted; an active or used one is
/// blacklisted (a used one's sealed successor is erased) and its family
/// revoked; only the active one is news.
pub(super) async fn blacklist(
    pool: &PgPool,
    token: &RecordedToken,
) -> Result<BlacklistOutcome, StoreError> {
    let mut transaction = pool.begin().await.map_err(unavailable)?;
    let family = family_of(&mut transaction, &token.jti)
        .await?
        .unwrap_or_else(|| token.jti.clone());
    let family_revoked = lock_family(
        &mut transaction,
        &family,
        &token.subject,
        token.family_retained_until(),
    )
    .await?;
    let outcome = if insert(&mut transaction, token, &family, "blacklisted").await? == 1 {
        BlacklistOutcome::Blacklisted
    } else {
        let state = lock_token(&mut transaction, &token.jti)
            .await?
            .map(|row| row.state);
        let live = matches!(state.as_deref(), Some("active" | "used"));
        if live && !family_revoked {
            sqlx::query(
                "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted', sealed_successor = NULL, successor_until = NULL
                 WHERE jti = $1",
            )
            .bind(&token.jti)
            .execute(&mut *transaction)
            .await
            .map_err(unavailable)?;
            update_family(
                &mut transaction,
                &family,
                token.family_retained_until(),
                true,
                0, // no clock here: erases nothing
            )
            .await?;
        }
        if live && !family_revoked && state.as_deref() == Some("active") {
            BlacklistOutcome::Blacklisted
        } else {
            BlacklistOutcome::AlreadyBlacklisted
        }
    };
    transaction.commit().await.map_err(unavailable)?;
    Ok(outcome)
}

/// Revokes every family of `subject` that is not revoked yet; returns how many.
pub(super) async fn revoke_subject(pool: &PgPool, subject: &str) -> Result<u64, StoreError> {
    let result = sqlx::query(
        "UPDATE simplejwt_refresh_families SET revoked = TRUE WHERE subject = $1 AND NOT revoked",
    )
    .bind(subject)
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(result.rows_affected())
}
