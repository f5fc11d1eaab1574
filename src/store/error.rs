//! The error every token store returns.

use std::fmt;

/// The storage behind a token store failed or could not be reached.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::StoreError;
///
/// let error = StoreError::unavailable("connection refused");
/// assert_eq!(error.to_string(), "token store unavailable: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend did not answer (down, timed out, pool exhausted).
    #[error("token store unavailable: {0}")]
    Unavailable(String),
    /// The backend answered with data that cannot be read.
    #[error("token store data is corrupt: {0}")]
    Corrupt(String),
    /// Not a backend failure: a limit on the store's concurrent work is
    /// saturated (a store of your own may answer this; the built-in ones do
    /// not). Answered like any token-store failure, `503 store_unavailable`.
    #[error("overloaded: {0}")]
    Overloaded(String),
}

impl StoreError {
    /// An [`StoreError::Unavailable`] from any displayable cause.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::StoreError;
    ///
    /// assert!(matches!(StoreError::unavailable("timed out"), StoreError::Unavailable(_)));
    /// ```
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        StoreError::Unavailable(cause.to_string())
    }
}
