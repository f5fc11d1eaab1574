//! Reading and writing the rows of one token and of its family, inside a
//! transaction the caller holds.

use sqlx::Row as _;

use super::{to_sql, unavailable};
use crate::store::{RecordedToken, StoreError};

/// A presented token's row and its family's state, read in the caller's transaction.
pub(super) struct Row {
    pub(super) family: String,
    pub(super) state: String,
    pub(super) sealed_successor: Option<String>,
    pub(super) successor_until: Option<i64>,
    pub(super) rotated_at: Option<i64>,
    pub(super) family_revoked: bool,
}

pub(super) async fn insert(
    executor: &mut sqlx::SqliteConnection,
    token: &RecordedToken,
    family: &str,
    state: &str,
) -> Result<u64, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, keep_until) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(&token.jti)
    .bind(&token.subject)
    .bind(family)
    .bind(to_sql(token.stored_expires_at()))
    .bind(state)
    .bind(to_sql(token.retained_until()))
    .execute(executor)
    .await
    .map_err(unavailable)?;
    Ok(inserted.rows_affected())
}

/// Creates the family if missing, keeps it at least until `keep_until`, and revokes it when `revoke`.
/// Returns whether it was revoked by this call.
pub(super) async fn write_family(
    connection: &mut sqlx::SqliteConnection,
    family: &str,
    subject: &str,
    keep_until: u64,
    revoke: bool,
) -> Result<bool, StoreError> {
    let was_revoked: Option<bool> =
        sqlx::query_scalar("SELECT revoked <> 0 FROM simplejwt_refresh_families WHERE family = ?")
            .bind(family)
            .fetch_optional(&mut *connection)
            .await
            .map_err(unavailable)?;
    sqlx::query(
        "INSERT INTO simplejwt_refresh_families (family, subject, revoked, keep_until) VALUES (?, ?, ?, ?)
         ON CONFLICT (family) DO UPDATE SET keep_until = MAX(keep_until, excluded.keep_until),
             revoked = MAX(revoked, excluded.revoked)",
    )
    .bind(family)
    .bind(subject)
    .bind(i64::from(revoke))
    .bind(to_sql(keep_until))
    .execute(connection)
    .await
    .map_err(unavailable)?;
    Ok(revoke && was_revoked != Some(true))
}

pub(super) async fn read(
    connection: &mut sqlx::SqliteConnection,
    jti: &str,
) -> Result<Option<Row>, StoreError> {
    let row = sqlx::query(
        "SELECT t.family, t.state, t.sealed_successor, t.successor_until, t.rotated_at,
                COALESCE(f.revoked, 0) <> 0 AS family_revoked
         FROM simplejwt_refresh_tokens t LEFT JOIN simplejwt_refresh_families f ON f.family = t.family
         WHERE t.jti = ?",
    )
    .bind(jti)
    .fetch_optional(connection)
    .await
    .map_err(unavailable)?;
    row.map(|row| {
        Ok(Row {
            family: row.try_get("family").map_err(unavailable)?,
            state: row.try_get("state").map_err(unavailable)?,
            sealed_successor: row.try_get("sealed_successor").map_err(unavailable)?,
            successor_until: row.try_get("successor_until").map_err(unavailable)?,
            rotated_at: row.try_get("rotated_at").map_err(unavailable)?,
            family_revoked: row.try_get("family_revoked").map_err(unavailable)?,
        })
    })
    .transpose()
}
