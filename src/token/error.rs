//! Why a token was refused.

/// Why a token was refused, one variant per message of the contract.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::token::TokenError;
///
/// assert_eq!(TokenError::NoExp.to_string(), "Token has no 'exp' claim");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Bad signature, wrong algorithm, malformed, not a JWT, a claim of the wrong type, `nbf` or `iat` in the future.
    #[error("Token is invalid")]
    Invalid,
    /// `exp` is in the past (beyond the leeway).
    #[error("Token is expired")]
    Expired,
    /// The `jti` claim is missing.
    #[error("Token has no id")]
    NoId,
    /// The token type claim is missing where a type is expected.
    #[error("Token has no type")]
    NoType,
    /// The token type claim names another kind of token.
    #[error("Token has wrong type")]
    WrongType,
    /// The `exp` claim is missing.
    #[error("Token has no 'exp' claim")]
    NoExp,
    /// The token was revoked, logged out, rotated or reused.
    #[error("Token is blacklisted")]
    Blacklisted,
}
