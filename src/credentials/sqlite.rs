use std::sync::Arc;

use sqlx::sqlite::SqlitePool;
use sqlx::Row;

use super::sqlite_reader::SubjectReader;
use super::UserStoreError;
use super::{CreateUserError, Subject, User, UserStore};
use crate::future::BoxFuture;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS simplejwt_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1
);
";

/// Users in SQLite (table `simplejwt_users`), ids from 1 in creation order.
///
/// The authentication layer's lookup of a token's user, once per request,
/// is read in place on a few read-only connections of its own to the same
/// file (about 5 µs of CPU) rather than through sqlx's connection threads
/// (about ten times that). It never waits: it gives way to the pool when a
/// connection is busy, the read fails or the pool is closed. It sees every
/// committed write, from any process, at once. Databases in memory are read
/// through the pool only.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{SqliteUserStore, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let pool = tower_simplejwt::store::sqlite::open_pool("sqlite::memory:").await.unwrap();
/// let users = SqliteUserStore::from_pool(pool).await.unwrap();
/// assert_eq!(users.create("alice", "hash", true).await.unwrap().id, "1");
/// assert_eq!(users.create("bob", "hash", false).await.unwrap().id, "2");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SqliteUserStore {
    pub(super) pool: SqlitePool,
    pub(super) reader: Option<Arc<SubjectReader>>,
}

impl SqliteUserStore {
    /// Uses `pool` and creates the table if missing.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self, UserStoreError> {
        sqlx::raw_sql(SCHEMA).execute(&pool).await.map_err(failed)?;
        let reader = SubjectReader::for_pool(&pool).await?.map(Arc::new);
        Ok(SqliteUserStore { pool, reader })
    }

    pub(super) fn user(row: sqlx::sqlite::SqliteRow) -> Result<User, UserStoreError> {
        Ok(User {
            id: row
                .try_get::<i64, _>("id")
                .map_err(UserStoreError::corrupt)?
                .to_string(),
            username: row.try_get("username").map_err(UserStoreError::corrupt)?,
            password_hash: row
                .try_get("password_hash")
                .map_err(UserStoreError::corrupt)?,
            is_active: row
                .try_get::<bool, _>("is_active")
                .map_err(UserStoreError::corrupt)?,
        })
    }
}

impl UserStore for SqliteUserStore {
    fn find_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        Box::pin(async move {
            sqlx::query("SELECT id, username, password_hash, is_active FROM simplejwt_users WHERE username = ?")
                .bind(username)
                .fetch_optional(&self.pool)
                .await
                .map_err(failed)?
                .map(Self::user)
                .transpose()
        })
    }

    fn find_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        Box::pin(async move {
            let Some(number) = row_id(id) else {
                return Ok(None);
            };
            sqlx::query(
                "SELECT id, username, password_hash, is_active FROM simplejwt_users WHERE id = ?",
            )
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed)?
            .map(Self::user)
            .transpose()
        })
    }

    fn find_subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
        let Some(number) = row_id(id) else {
            return Some(Ok(None));
        };
        // A closed pool closes the store, for this read too.
        if self.pool.is_closed() {
            return None;
        }
        self.reader.as_ref()?.subject(number)
    }

    fn create<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        is_active: bool,
    ) -> BoxFuture<'a, Result<User, CreateUserError>> {
        Box::pin(async move {
            if username.trim().is_empty() {
                return Err(CreateUserError::BlankUsername);
            }
            let result = sqlx::query(
                "INSERT INTO simplejwt_users (username, password_hash, is_active) VALUES (?, ?, ?)",
            )
            .bind(username)
            .bind(password_hash)
            .bind(is_active)
            .execute(&self.pool)
            .await;
            match result {
                Ok(done) => Ok(User {
                    id: done.last_insert_rowid().to_string(),
                    username: username.to_owned(),
                    password_hash: password_hash.to_owned(),
                    is_active,
                }),
                Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                    Err(CreateUserError::UsernameTaken(username.to_owned()))
                }
                Err(error) => Err(failed(error).into()),
            }
        })
    }
}

/// The row id an id claim names. Ids are decimal integers; "01" or "1.0"
/// name no user, as in Django.
fn row_id(id: &str) -> Option<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|number| number.to_string() == id)
}

/// A failed statement: data that cannot be decoded is corrupt (the table is
/// not the one this store creates), anything else means the database could
/// not answer.
pub(super) fn failed(error: sqlx::Error) -> UserStoreError {
    match error {
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => UserStoreError::corrupt(error),
        error => UserStoreError::unavailable(error),
    }
}
