use std::fmt;

/// The kinds of token the crate mints, named as in the token type claim.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::token::TokenKind;
///
/// assert_eq!(TokenKind::Refresh.as_str(), "refresh");
/// assert_eq!(TokenKind::from_claim("access"), Some(TokenKind::Access));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A short-lived token presented on every request.
    Access,
    /// A long-lived token exchanged for new access tokens.
    Refresh,
}

impl TokenKind {
    /// The value of the token type claim for this kind.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::token::TokenKind;
    ///
    /// assert_eq!(TokenKind::Refresh.as_str(), "refresh");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    /// The kind named by a token type claim value, if it is one of ours.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::token::TokenKind;
    ///
    /// assert_eq!(TokenKind::from_claim("access"), Some(TokenKind::Access));
    /// assert_eq!(TokenKind::from_claim("sliding"), None);
    /// ```
    pub fn from_claim(value: &str) -> Option<Self> {
        match value {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which token type a verification expects.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::token::{Expected, TokenKind};
///
/// let for_refresh_endpoint = Expected::Kind(TokenKind::Refresh);
/// let for_verify_endpoint = Expected::Any;
/// assert_ne!(for_refresh_endpoint, for_verify_endpoint);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Any type, or none at all (the verify endpoint's "untyped" token).
    Any,
    /// Exactly this kind: a missing type claim is "Token has no type", another is "Token has wrong type".
    Kind(TokenKind),
}
