//! Who may log in: the [`Authenticator`] trait, user storage, and password hashing.
//!
//! The obtain endpoint asks an [`Authenticator`] to turn a username and
//! password into a [`Subject`]; the authentication layer asks it for the
//! subject of a token, to refuse unknown and inactive users.
//! [`PasswordAuthenticator`] does both over a [`UserStore`]
//! ([`MemoryUserStore`], or [`SqliteUserStore`] with the `sqlite` feature),
//! hashing with argon2id and accepting Django's `pbkdf2_sha256` hashes so
//! users migrated from a Django database log in unchanged.
//! [`SubjectCache`] wraps any authenticator to answer repeated subject
//! lookups from memory for a few seconds, when the user store is a database.
//! Failures are [`UserStoreError`]s, which tell a user database that cannot
//! answer from a fault of the server. The module knows nothing of the token
//! store: a SQLite user store may share its pool with the SQLite token store,
//! each built from the same `SqlitePool`.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::credentials::{Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let users = MemoryUserStore::new();
//! // A user moved over from Django's auth_user table, hash and all.
//! users.create("bob", "pbkdf2_sha256$1000$dAZCAAFxUbgXRADhq3uAjd$LCFIUXG8QoT56y0/us0T20a7loNb12YdbODSAJASeBE=", true)
//!     .await.unwrap();
//! let authenticator = PasswordAuthenticator::new(users, PasswordHasher::default());
//! let bob = authenticator.authenticate("bob", "builder-42").await.unwrap().unwrap();
//! assert_eq!(bob.id, "1");
//! # });
//! ```

mod authenticator;
mod block_pool;
mod django_hash;
mod error;
mod hash_shape;
mod login_limit;
mod password;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_admin;
#[cfg(feature = "sqlite")]
mod sqlite_reader;
mod subject;
mod subject_cache;
mod users;

pub use authenticator::{Authenticator, PasswordAuthenticator};
pub use django_hash::DjangoHash;
pub use error::UserStoreError;
pub use login_limit::LoginLimit;
pub use password::{HashError, PasswordHasher};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteUserStore;
pub use subject::{RemoteClaims, RemoteSubject, Subject};
pub use subject_cache::SubjectCache;
pub use users::{CreateUserError, MemoryUserStore, User, UserStore};
