//! [`LifecycleError`]: why a lifecycle operation did not succeed.

use crate::credentials::UserStoreError;
use crate::store::StoreError;
use crate::token::{SignError, TokenError};

/// Why a lifecycle operation did not succeed.
///
/// It says what went wrong and nothing about how a transport answers it:
/// `http::ApiError` converts from it and renders the HTTP contract's answer,
/// or its gRPC status (`ApiError::into_grpc_response`, and `tonic::Status`
/// with the `tonic` feature).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::token::TokenError;
/// use tower_simplejwt::LifecycleError;
///
/// let error = LifecycleError::from(TokenError::Blacklisted);
/// assert!(error.is_refusal());
/// assert_eq!(error.to_string(), "Token is blacklisted");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// The token was refused: invalid, expired, of the wrong type, blacklisted…
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Wrong password, unknown or inactive user (one answer for all three, in the same time).
    #[error("No active account found with the given credentials")]
    InvalidCredentials,
    /// The token's user no longer exists or is inactive (or the token names no usable user).
    #[error("No active account found for the given token.")]
    InactiveSubject,
    /// Tokens are only issued for local users, never for another issuer's
    /// subject: a misuse of [`Jwt::issue_for`](crate::Jwt::issue_for) (or an
    /// authenticator that answers a login with a remote subject), a server
    /// error rather than a refusal.
    #[error("tokens are issued for local subjects only, not for a subject of {issuer}")]
    ForeignSubject {
        /// The issuer that vouches for the subject.
        issuer: String,
    },
    /// A subject without an id: a misuse of the lifecycle (an empty id would
    /// name every token that carries no user).
    #[error("a subject needs a non-empty id")]
    EmptySubjectId,
    /// The token store failed or cannot answer now.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The user store failed or cannot answer now, or a password check could not be made.
    #[error(transparent)]
    Users(#[from] UserStoreError),
    /// A token could not be signed (a key that cannot sign: a misconfiguration).
    #[error(transparent)]
    Signing(#[from] SignError),
    /// A failure of the server itself (a bug), described for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl LifecycleError {
    /// Whether the caller was refused (a bad token or bad credentials), as
    /// opposed to a failure of the server or of a store.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::LifecycleError;
    ///
    /// assert!(LifecycleError::InvalidCredentials.is_refusal());
    /// assert!(!LifecycleError::Internal("bug".into()).is_refusal());
    /// ```
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            LifecycleError::Token(_)
                | LifecycleError::InvalidCredentials
                | LifecycleError::InactiveSubject
        )
    }
}
