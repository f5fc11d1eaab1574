//! Why a user lookup or a login could not be answered.

use std::error::Error;
use std::sync::Arc;

/// The cause a [`UserStoreError`] carries, shared so the error stays `Clone`.
type Cause = Arc<dyn Error + Send + Sync>;

/// A user store or authenticator that could not answer: not a wrong
/// password or an unknown user (those are `Ok(None)`), but a failure.
///
/// Each variant names who is at fault, which decides what a client is told:
/// the token endpoints and the authentication layer answer
/// [`Unavailable`](Self::Unavailable) and [`Overloaded`](Self::Overloaded)
/// with `503 service_unavailable` and `Retry-After: 1` (try again), and
/// [`Corrupt`](Self::Corrupt) and [`PasswordHash`](Self::PasswordHash) with
/// `500 server_error` (a bug or a misconfiguration to fix); never a 401,
/// which would log the user out. The cause is the error's
/// [`source`](Error::source).
///
/// # Examples
///
/// ```
/// use std::error::Error;
/// use tower_simplejwt::credentials::UserStoreError;
///
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
/// let error = UserStoreError::unavailable(io);
/// assert_eq!(error.to_string(), "user store unavailable");
/// assert_eq!(error.source().unwrap().to_string(), "connection refused");
/// assert!(error.is_temporary());
/// assert!(!UserStoreError::corrupt("is_active is not a boolean").is_temporary());
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum UserStoreError {
    /// The user database did not answer (down, timed out, pool exhausted).
    #[error("user store unavailable")]
    Unavailable(#[source] Cause),
    /// Every password check is busy: the login limit is saturated. Not a
    /// failure of the user database.
    #[error("login refused: every password check is busy")]
    Overloaded(#[source] Cause),
    /// The user database answered with data that cannot be read (a column
    /// of the wrong type, a schema that is not ours).
    #[error("user store data is corrupt")]
    Corrupt(#[source] Cause),
    /// A password hash could not be computed or checked (the hashing task
    /// failed, parameters the hasher refuses).
    #[error("password hash could not be computed")]
    PasswordHash(#[source] Cause),
}

impl UserStoreError {
    /// An [`Unavailable`](Self::Unavailable) error caused by `cause`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::UserStoreError;
    ///
    /// let error = UserStoreError::unavailable("timed out");
    /// assert!(matches!(error, UserStoreError::Unavailable(_)));
    /// ```
    pub fn unavailable(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        UserStoreError::Unavailable(Arc::from(cause.into()))
    }

    /// An [`Overloaded`](Self::Overloaded) error caused by `cause`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::UserStoreError;
    ///
    /// let error = UserStoreError::overloaded("too many logins at once");
    /// assert!(error.is_temporary());
    /// ```
    pub fn overloaded(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        UserStoreError::Overloaded(Arc::from(cause.into()))
    }

    /// A [`Corrupt`](Self::Corrupt) error caused by `cause`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::UserStoreError;
    ///
    /// let error = UserStoreError::corrupt("id is not an integer");
    /// assert!(matches!(error, UserStoreError::Corrupt(_)));
    /// ```
    pub fn corrupt(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        UserStoreError::Corrupt(Arc::from(cause.into()))
    }

    /// A [`PasswordHash`](Self::PasswordHash) error caused by `cause`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::UserStoreError;
    ///
    /// let error = UserStoreError::password_hash("the hashing task panicked");
    /// assert!(!error.is_temporary());
    /// ```
    pub fn password_hash(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        UserStoreError::PasswordHash(Arc::from(cause.into()))
    }

    /// Whether trying again later may succeed ([`Unavailable`](Self::Unavailable),
    /// [`Overloaded`](Self::Overloaded)), as opposed to a fault to fix.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::UserStoreError;
    ///
    /// assert!(UserStoreError::unavailable("down").is_temporary());
    /// assert!(!UserStoreError::password_hash("bad parameters").is_temporary());
    /// ```
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            UserStoreError::Unavailable(_) | UserStoreError::Overloaded(_)
        )
    }
}

impl From<super::HashError> for UserStoreError {
    fn from(error: super::HashError) -> Self {
        UserStoreError::password_hash(error)
    }
}
