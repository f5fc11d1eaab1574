use std::fmt;
use std::sync::Mutex;

use super::Subject;
use super::UserStoreError;
use crate::future::BoxFuture;
use crate::lock::lock;

/// A user account as a [`UserStore`] keeps it.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::User;
///
/// let user = User { id: "1".into(), username: "alice".into(), password_hash: String::new(), is_active: true };
/// assert!(user.is_active);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The id, put in tokens as the user id claim (a string, as the contract says).
    pub id: String,
    /// The login name.
    pub username: String,
    /// An argon2 PHC string or a Django `pbkdf2_sha256$…` string.
    pub password_hash: String,
    /// Inactive users cannot log in and their tokens are refused.
    pub is_active: bool,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// Creating a user failed.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{CreateUserError, MemoryUserStore, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let users = MemoryUserStore::new();
/// users.create("alice", "hash", true).await.unwrap();
/// let taken = users.create("alice", "hash", true).await.unwrap_err();
/// assert!(matches!(taken, CreateUserError::UsernameTaken(_)));
/// assert!(matches!(users.create(" ", "hash", true).await, Err(CreateUserError::BlankUsername)));
/// # });
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CreateUserError {
    /// The username is taken.
    #[error("a user named {0:?} already exists")]
    UsernameTaken(String),
    /// The username is empty or only whitespace.
    #[error("the username may not be blank")]
    BlankUsername,
    /// The id asked for is taken (a store that lets the caller choose ids,
    /// such as [`SqliteUserStore::create_with_id`](super::SqliteUserStore::create_with_id)).
    #[error("a user with id {0} already exists")]
    IdTaken(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] UserStoreError),
}

/// Pluggable storage of user accounts.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{MemoryUserStore, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let users = MemoryUserStore::new();
/// let alice = users.create("alice", "hash", true).await.unwrap();
/// assert_eq!(alice.id, "1");
/// assert_eq!(users.find_by_id("1").await.unwrap().unwrap().username, "alice");
/// # });
/// ```
pub trait UserStore: Send + Sync + fmt::Debug + 'static {
    /// The user with this login name.
    fn find_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>>;

    /// The user with this id (the user id claim of a token).
    fn find_by_id<'a>(&'a self, id: &'a str)
        -> BoxFuture<'a, Result<Option<User>, UserStoreError>>;

    /// The subject with this id: the user without its password hash. The
    /// authentication layer calls it on every request; stores that can build
    /// it without copying the hash should.
    fn find_subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        Box::pin(async move { Ok(self.find_by_id(id).await?.map(Subject::from)) })
    }

    /// [`find_subject`](Self::find_subject)'s answer when it needs no
    /// waiting (stores in memory); `None` otherwise.
    fn find_subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
        let _ = id;
        None
    }

    /// Adds a user; ids are given in creation order 1, 2, …
    fn create<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        is_active: bool,
    ) -> BoxFuture<'a, Result<User, CreateUserError>>;
}

/// Users in process memory, for tests and demos.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{MemoryUserStore, UserStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let users = MemoryUserStore::new();
/// let bob = users.create("bob", "hash", false).await.unwrap();
/// assert!(!users.find_by_username("bob").await.unwrap().unwrap().is_active);
/// assert_eq!(bob.id, "1");
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryUserStore {
    users: Mutex<Vec<User>>,
}

impl MemoryUserStore {
    /// An empty store.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{MemoryUserStore, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert!(MemoryUserStore::new().find_by_id("1").await.unwrap().is_none());
    /// # });
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn users(&self) -> std::sync::MutexGuard<'_, Vec<User>> {
        lock(&self.users)
    }
}

impl UserStore for MemoryUserStore {
    fn find_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        let user = self
            .users()
            .iter()
            .find(|user| user.username == username)
            .cloned();
        Box::pin(async move { Ok(user) })
    }

    fn find_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        let user = self.users().iter().find(|user| user.id == id).cloned();
        Box::pin(async move { Ok(user) })
    }

    fn find_subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        let subject = self.find_subject_now(id);
        Box::pin(async move { subject.unwrap_or(Ok(None)) })
    }

    fn find_subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
        let subject = self
            .users()
            .iter()
            .find(|user| user.id == id)
            .map(|user| Subject::new(user.id.clone(), user.username.clone(), user.is_active));
        Some(Ok(subject))
    }

    fn create<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        is_active: bool,
    ) -> BoxFuture<'a, Result<User, CreateUserError>> {
        let result = (|| {
            if username.trim().is_empty() {
                return Err(CreateUserError::BlankUsername);
            }
            let mut users = self.users();
            if users.iter().any(|user| user.username == username) {
                return Err(CreateUserError::UsernameTaken(username.to_owned()));
            }
            let user = User {
                id: (users.len() + 1).to_string(),
                username: username.to_owned(),
                password_hash: password_hash.to_owned(),
                is_active,
            };
            users.push(user.clone());
            Ok(user)
        })();
        Box::pin(async move { result })
    }
}
