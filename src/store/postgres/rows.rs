//! The rows of one token and of its family, locked and written inside a
//! transaction the caller holds (always the family's lock first).

use sqlx::Row;

use super::{to_sql, unavailable};
use crate::store::{RecordedToken, StoreError};

/// How many ended grace windows one rotation erases at most (the rest wait
/// for the next, or for [`TokenStore::erase_ended_windows`](crate::store::TokenStore::erase_ended_windows)).
const ERASE_BATCH: i64 = 64;

/// A presented token's row, read under its lock.
pub(super) struct TokenRow {
    pub(super) state: String,
    pub(super) sealed_successor: Option<String>,
    pub(super) successor_until: Option<i64>,
    pub(super) rotated_at: Option<i64>,
}

pub(super) async fn insert(
    connection: &mut sqlx::PgConnection,
    token: &RecordedToken,
    family: &str,
    state: &str,
) -> Result<u64, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, keep_until) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(&token.jti)
    .bind(&token.subject)
    .bind(family)
    .bind(to_sql(token.stored_expires_at()))
    .bind(state)
    .bind(to_sql(token.retained_until()))
    .execute(connection)
    .await
    .map_err(unavailable)?;
    Ok(inserted.rows_affected())
}

/// The family of the token `jti` if recorded (a token's family never
/// changes, so this read needs no lock).
pub(super) async fn family_of(
    connection: &mut sqlx::PgConnection,
    jti: &str,
) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT family FROM simplejwt_refresh_tokens WHERE jti = $1")
        .bind(jti)
        .fetch_optional(connection)
        .await
        .map_err(unavailable)
}

/// Locks the family row of the recorded token `jti` in one round trip
/// (the common case); `None` when the token or its family row is missing.
pub(super) async fn lock_family_of(
    connection: &mut sqlx::PgConnection,
    jti: &str,
) -> Result<Option<(String, bool)>, StoreError> {
    sqlx::query_as(
        "SELECT family, revoked FROM simplejwt_refresh_families
         WHERE family = (SELECT family FROM simplejwt_refresh_tokens WHERE jti = $1)
         FOR UPDATE",
    )
    .bind(jti)
    .fetch_optional(connection)
    .await
    .map_err(unavailable)
}

/// Locks the family's row (creating it if missing: a new family, or one
/// of a token recorded before families existed) and returns whether it is
/// revoked. Every step on a family's tokens takes this lock first.
pub(super) async fn lock_family(
    connection: &mut sqlx::PgConnection,
    family: &str,
    subject: &str,
    keep_until: u64,
) -> Result<bool, StoreError> {
    const LOCK: &str =
        "SELECT revoked FROM simplejwt_refresh_families WHERE family = $1 FOR UPDATE";
    let revoked: Option<bool> = sqlx::query_scalar(LOCK)
        .bind(family)
        .fetch_optional(&mut *connection)
        .await
        .map_err(unavailable)?;
    if let Some(revoked) = revoked {
        return Ok(revoked);
    }
    sqlx::query(
        "INSERT INTO simplejwt_refresh_families (family, subject, revoked, keep_until) VALUES ($1, $2, FALSE, $3)
         ON CONFLICT (family) DO NOTHING",
    )
    .bind(family)
    .bind(subject)
    .bind(to_sql(keep_until))
    .execute(&mut *connection)
    .await
    .map_err(unavailable)?;
    sqlx::query_scalar(LOCK)
        .bind(family)
        .fetch_one(connection)
        .await
        .map_err(unavailable)
}

/// Keeps the (locked) family at least until `keep_until`, revoking it
/// when `revoke`; in the same statement, erases up to [`ERASE_BATCH`]
/// sealed successors whose grace window ended at or before `now`,
/// skipping rows other transactions hold (so it never waits, and never
/// deadlocks). `ORDER BY successor_until` keeps the planner on the
/// partial index even when the table's statistics are stale (a `LIMIT`
/// alone lets it pick a scan of the whole table).
pub(super) async fn update_family(
    connection: &mut sqlx::PgConnection,
    family: &str,
    keep_until: u64,
    revoke: bool,
    now: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "WITH erased AS (
            UPDATE simplejwt_refresh_tokens SET sealed_successor = NULL, successor_until = NULL
            WHERE jti IN (SELECT jti FROM simplejwt_refresh_tokens
                WHERE successor_until <= $4 AND sealed_successor IS NOT NULL
                ORDER BY successor_until LIMIT $5 FOR UPDATE SKIP LOCKED)
            RETURNING 1)
         UPDATE simplejwt_refresh_families SET keep_until = GREATEST(keep_until, $2), revoked = revoked OR $3
         WHERE family = $1",
    )
    .bind(family)
    .bind(to_sql(keep_until))
    .bind(revoke)
    .bind(to_sql(now))
    .bind(ERASE_BATCH)
    .execute(connection)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn lock_token(
    connection: &mut sqlx::PgConnection,
    jti: &str,
) -> Result<Option<TokenRow>, StoreError> {
    let row = sqlx::query(
        "SELECT state, sealed_successor, successor_until, rotated_at FROM simplejwt_refresh_tokens WHERE jti = $1 FOR UPDATE",
    )
    .bind(jti)
    .fetch_optional(connection)
    .await
    .map_err(unavailable)?;
    row.map(|row| {
        Ok(TokenRow {
            state: row.try_get("state").map_err(unavailable)?,
            sealed_successor: row.try_get("sealed_successor").map_err(unavailable)?,
            successor_until: row.try_get("successor_until").map_err(unavailable)?,
            rotated_at: row.try_get("rotated_at").map_err(unavailable)?,
        })
    })
    .transpose()
}
