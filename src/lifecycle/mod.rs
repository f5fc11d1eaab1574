//! The token lifecycle: every operation of token management as a typed call,
//! with no HTTP in sight.
//!
//! | operation | call | simplejwt |
//! | --- | --- | --- |
//! | log in with a username and password | [`Jwt::login`] | `TokenObtainPairView` |
//! | issue a pair for a subject the app already trusts | [`Jwt::issue_for`] | `RefreshToken.for_user(user)` |
//! | refresh (rotation, families, grace window) | [`Jwt::refresh`] | `TokenRefreshView` |
//! | verify any token | [`Jwt::verify`] | `TokenVerifyView` |
//! | log one refresh token out | [`Jwt::blacklist`] | `TokenBlacklistView` |
//! | log a subject out everywhere | [`Jwt::revoke_subject`] | `OutstandingToken` loop |
//!
//! Inputs and outputs are Rust types ([`TokenPair`], [`Refreshed`],
//! [`Claims`](crate::token::Claims), [`Subject`](crate::credentials::Subject)); every failure is a
//! [`LifecycleError`], which says what went wrong and nothing about status
//! codes. The HTTP endpoints are thin skins over these calls, and an app
//! calls them from its own handlers and jobs: a sign-up, an OAuth callback or
//! a magic link ends in [`Jwt::issue_for`], and the pair it returns refreshes
//! through the refresh endpoint like any other.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore};
//! use tower_simplejwt::Jwt;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let users = MemoryUserStore::new();
//! users.create("alice", "unused", true).await.unwrap(); // user id "1"
//! let jwt = Jwt::builder(JwtConfig::simplejwt_guide("an example secret of 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//!
//! // The app checked the user its own way (a magic link, say).
//! let pair = jwt.issue_for(&Subject::new("1", "alice@example.com", true)).await.unwrap();
//! let claims = jwt.verify(&pair.access.token).await.unwrap();
//! assert_eq!(claims.subject(), Some("1"));
//!
//! let refreshed = jwt.refresh(&pair.refresh.token).await.unwrap();
//! let successor = refreshed.refresh.unwrap();
//! jwt.blacklist(&successor.token).await.unwrap();
//! assert!(jwt.refresh(&successor.token).await.is_err());
//! # });
//! ```

mod error;
mod issue;
mod jwt;
mod refresh;
mod revoke;
mod verify;

pub use crate::token::TokenPair;
pub use error::LifecycleError;
pub use jwt::{BuildError, Jwt, JwtBuilder};
pub use refresh::Refreshed;
