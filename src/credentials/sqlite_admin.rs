//! Account administration on [`SqliteUserStore`]: users imported with the
//! ids they had elsewhere, a new password hash, activation. What a
//! management command needs, beside the lookups of [`UserStore`](super::UserStore).

use super::sqlite::{failed, SqliteUserStore};
use super::{CreateUserError, User, UserStoreError};

impl SqliteUserStore {
    /// Adds a user with the id `id` (a user migrated from Django keeps its
    /// primary key, so the `user_id` of the tokens Django minted names it
    /// here too). Later [`create`](super::UserStore::create)s number on
    /// from the largest id.
    ///
    /// # Errors
    ///
    /// [`CreateUserError::IdTaken`] or [`CreateUserError::UsernameTaken`]
    /// when either is in use, [`CreateUserError::BlankUsername`] for a blank
    /// name, [`CreateUserError::Store`] when the database fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{CreateUserError, SqliteUserStore, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let pool = tower_simplejwt::store::sqlite::open_pool("sqlite::memory:").await.unwrap();
    /// let users = SqliteUserStore::from_pool(pool).await.unwrap();
    /// assert_eq!(users.create_with_id(42, "alice", "hash", true).await.unwrap().id, "42");
    /// assert!(matches!(users.create_with_id(42, "bob", "hash", true).await, Err(CreateUserError::IdTaken(_))));
    /// assert_eq!(users.create("bob", "hash", true).await.unwrap().id, "43");
    /// # });
    /// ```
    pub async fn create_with_id(
        &self,
        id: i64,
        username: &str,
        password_hash: &str,
        is_active: bool,
    ) -> Result<User, CreateUserError> {
        if username.trim().is_empty() {
            return Err(CreateUserError::BlankUsername);
        }
        let result = sqlx::query(
            "INSERT INTO simplejwt_users (id, username, password_hash, is_active) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(username)
        .bind(password_hash)
        .bind(is_active)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(User {
                id: id.to_string(),
                username: username.to_owned(),
                password_hash: password_hash.to_owned(),
                is_active,
            }),
            // SQLite names the column whose constraint failed.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                match error.message().contains("simplejwt_users.username") {
                    true => Err(CreateUserError::UsernameTaken(username.to_owned())),
                    false => Err(CreateUserError::IdTaken(id.to_string())),
                }
            }
            Err(error) => Err(failed(error).into()),
        }
    }

    /// Replaces the password hash of `username` (an argon2 PHC string or a
    /// Django `pbkdf2_sha256$…` one); returns the updated user, or `None`
    /// when there is no such user. Tokens already issued stay valid: revoke
    /// the user's refresh tokens with the token store's `revoke_subject`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{SqliteUserStore, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let pool = tower_simplejwt::store::sqlite::open_pool("sqlite::memory:").await.unwrap();
    /// let users = SqliteUserStore::from_pool(pool).await.unwrap();
    /// users.create("alice", "old", true).await.unwrap();
    /// assert_eq!(users.set_password_hash("alice", "new").await.unwrap().unwrap().password_hash, "new");
    /// assert!(users.set_password_hash("nobody", "new").await.unwrap().is_none());
    /// # });
    /// ```
    pub async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<Option<User>, UserStoreError> {
        sqlx::query(
            "UPDATE simplejwt_users SET password_hash = ? WHERE username = ? \
             RETURNING id, username, password_hash, is_active",
        )
        .bind(password_hash)
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?
        .map(Self::user)
        .transpose()
    }

    /// Activates or deactivates `username`; returns the updated user, or
    /// `None` when there is no such user. An inactive user cannot log in,
    /// and the tokens it holds are refused from the next request on (unless
    /// a subject cache still remembers it as active).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{SqliteUserStore, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let pool = tower_simplejwt::store::sqlite::open_pool("sqlite::memory:").await.unwrap();
    /// let users = SqliteUserStore::from_pool(pool).await.unwrap();
    /// users.create("alice", "hash", true).await.unwrap();
    /// assert!(!users.set_active("alice", false).await.unwrap().unwrap().is_active);
    /// assert!(!users.find_by_username("alice").await.unwrap().unwrap().is_active);
    /// # });
    /// ```
    pub async fn set_active(
        &self,
        username: &str,
        is_active: bool,
    ) -> Result<Option<User>, UserStoreError> {
        sqlx::query(
            "UPDATE simplejwt_users SET is_active = ? WHERE username = ? \
             RETURNING id, username, password_hash, is_active",
        )
        .bind(is_active)
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?
        .map(Self::user)
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use crate::credentials::{CreateUserError, SqliteUserStore, UserStore};

    async fn store() -> SqliteUserStore {
        // One connection: each would have a database in memory of its own.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        SqliteUserStore::from_pool(pool).await.unwrap()
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn imported_ids_are_kept_and_collisions_named() {
        block_on(async {
            let users = store().await;
            users
                .create_with_id(7, "alice", "hash", true)
                .await
                .unwrap();
            assert_eq!(
                users.find_by_id("7").await.unwrap().unwrap().username,
                "alice"
            );
            assert!(matches!(
                users.create_with_id(8, "alice", "hash", true).await,
                Err(CreateUserError::UsernameTaken(name)) if name == "alice"
            ));
            assert!(matches!(
                users.create_with_id(7, "bob", "hash", true).await,
                Err(CreateUserError::IdTaken(id)) if id == "7"
            ));
            assert!(matches!(
                users.create_with_id(9, " ", "hash", true).await,
                Err(CreateUserError::BlankUsername)
            ));
            assert_eq!(users.create("carol", "hash", true).await.unwrap().id, "8");
        });
    }

    #[test]
    fn password_and_activation_changes_are_read_back_and_touch_one_user() {
        block_on(async {
            let users = store().await;
            users.create("alice", "a", true).await.unwrap();
            users.create("bob", "b", true).await.unwrap();
            users.set_password_hash("alice", "a2").await.unwrap();
            users.set_active("alice", false).await.unwrap();
            let alice = users.find_by_username("alice").await.unwrap().unwrap();
            assert_eq!(
                (alice.password_hash.as_str(), alice.is_active),
                ("a2", false)
            );
            let bob = users.find_by_username("bob").await.unwrap().unwrap();
            assert_eq!((bob.password_hash.as_str(), bob.is_active), ("b", true));
            assert!(users.set_active("nobody", false).await.unwrap().is_none());
            let subject = users.find_subject("1").await.unwrap().unwrap();
            assert!(!subject.is_active, "the subject read sees the change");
        });
    }
}
