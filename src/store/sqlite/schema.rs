//! The SQLite schema: the pool settings, creation, and the in-place upgrade
//! of a database of an earlier version.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::unavailable;
use crate::store::{StoreError, CLOCK_SKEW_MARGIN, MAX_TIMESTAMP};

/// Opens (creating if missing) the SQLite database at `url` with the
/// settings every store of this crate expects: WAL, a busy timeout, foreign keys.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let pool = tower_simplejwt::store::sqlite::open_pool("sqlite::memory:").await.unwrap();
/// # drop(pool);
/// # });
/// ```
pub async fn open_pool(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(StoreError::unavailable)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    SqlitePoolOptions::new()
        // One connection keeps an in-memory database alive and shared.
        .max_connections(if in_memory { 1 } else { 8 })
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout(if in_memory {
            None
        } else {
            Some(Duration::from_secs(600))
        })
        .max_lifetime(if in_memory {
            None
        } else {
            Some(Duration::from_secs(1800))
        })
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(StoreError::unavailable)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS simplejwt_refresh_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    family TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'used', 'blacklisted')),
    rotated_at INTEGER,
    keep_until INTEGER,
    sealed_successor TEXT,
    successor_until INTEGER
);
CREATE TABLE IF NOT EXISTS simplejwt_refresh_families (
    family TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    keep_until INTEGER NOT NULL
);
";

const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_family ON simplejwt_refresh_tokens (family);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_subject ON simplejwt_refresh_tokens (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_keep_until ON simplejwt_refresh_tokens (keep_until);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_tokens_successor_until ON simplejwt_refresh_tokens (successor_until)
    WHERE sealed_successor IS NOT NULL;
CREATE INDEX IF NOT EXISTS simplejwt_refresh_families_subject ON simplejwt_refresh_families (subject);
CREATE INDEX IF NOT EXISTS simplejwt_refresh_families_keep_until ON simplejwt_refresh_families (keep_until);
";

/// Creates the schema in `pool`'s database, upgrading an earlier one in place
/// (see "Upgrading" on [`SqliteTokenStore`](super::SqliteTokenStore)).
pub(super) async fn create(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut transaction = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    let families_existed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'simplejwt_refresh_families')",
    )
    .fetch_one(&mut *transaction)
    .await
    .map_err(unavailable)?;
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
async fn upgrade(connection: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('simplejwt_refresh_tokens')")
            .fetch_all(&mut *connection)
            .await
            .map_err(unavailable)?;
    let has = |name: &str| columns.iter().any(|column| column == name);
    let mut statements = Vec::new();
    for (column, kind) in [
        ("keep_until", "INTEGER"),
        ("sealed_successor", "TEXT"),
        ("successor_until", "INTEGER"),
    ] {
        if !has(column) {
            statements.push(format!(
                "ALTER TABLE simplejwt_refresh_tokens ADD COLUMN {column} {kind};"
            ));
        }
    }
    if has("successor_token") {
        statements.push(
            "UPDATE simplejwt_refresh_tokens SET successor_token = NULL WHERE successor_token IS NOT NULL;"
                .into(),
        );
    }
    let margin = CLOCK_SKEW_MARGIN.as_secs();
    // The old rows' leeway is not known; `exp` is clamped so the sum stays an integer.
    let latest = MAX_TIMESTAMP - margin;
    statements.push(format!(
        "UPDATE simplejwt_refresh_tokens SET keep_until = MIN(expires_at, {latest}) + {margin} WHERE keep_until IS NULL;
         INSERT OR IGNORE INTO simplejwt_refresh_families (family, subject, revoked, keep_until)
             SELECT family, MIN(subject), 0, MAX(keep_until) FROM simplejwt_refresh_tokens GROUP BY family;"
    ));
    sqlx::raw_sql(&statements.concat())
        .execute(connection)
        .await
        .map_err(unavailable)?;
    Ok(())
}
