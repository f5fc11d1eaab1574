//! The claims of a verified token, as handlers read them.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::TokenKind;

/// The user id claim as found in a token.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::token::UserIdClaim;
///
/// let claim = UserIdClaim::Id("1".to_owned());
/// assert_eq!(claim.as_id(), Some("1"));
/// assert_eq!(UserIdClaim::Missing.as_id(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserIdClaim {
    /// The token has no user id claim.
    Missing,
    /// A string, or an integer taken as its decimal string form.
    Id(String),
    /// Present but not usable as an id (a list, an object, a float, `null`, a boolean).
    Unusable,
}

impl UserIdClaim {
    /// The id, when the claim holds a usable one.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::token::UserIdClaim;
    ///
    /// assert_eq!(UserIdClaim::Id("7".into()).as_id(), Some("7"));
    /// assert_eq!(UserIdClaim::Unusable.as_id(), None);
    /// ```
    pub fn as_id(&self) -> Option<&str> {
        match self {
            UserIdClaim::Id(id) => Some(id),
            UserIdClaim::Missing | UserIdClaim::Unusable => None,
        }
    }
}

/// The verified claims of a token.
///
/// The standard claims are typed fields; every other claim (custom ones such
/// as `"role"`, and `aud`/`iss`) sits in `extra`, a JSON map by default or
/// any deserializable type through [`Claims::extra_as`].
///
/// # Examples
///
/// ```
/// use tower_simplejwt::token::{Claims, TokenKind, UserIdClaim};
///
/// let claims = Claims {
///     token_type: Some("access".to_owned()),
///     jti: "0123456789abcdef0123456789abcdef".to_owned(),
///     exp: 1_700_007_200,
///     iat: Some(1_700_000_000),
///     nbf: None,
///     user_id: UserIdClaim::Id("1".to_owned()),
///     extra: serde_json::Map::new(),
/// };
/// assert_eq!(claims.kind(), Some(TokenKind::Access));
/// assert_eq!(claims.subject(), Some("1"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Claims<E = Map<String, Value>> {
    /// The token type claim, if present.
    pub token_type: Option<String>,
    /// The token id.
    pub jti: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: Option<u64>,
    /// Not-before time, seconds since the Unix epoch.
    pub nbf: Option<u64>,
    /// The user id claim.
    pub user_id: UserIdClaim,
    /// Every other claim.
    pub extra: E,
}

impl<E> Claims<E> {
    /// The token's kind, when its type claim names one of ours.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::{TokenCodec, TokenKind};
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let pair = codec.mint_pair("1", &serde_json::Map::new()).unwrap();
    /// assert_eq!(pair.refresh.claims.kind(), Some(TokenKind::Refresh));
    /// ```
    pub fn kind(&self) -> Option<TokenKind> {
        self.token_type.as_deref().and_then(TokenKind::from_claim)
    }

    /// The subject (user id) as a string, when the token carries a usable one.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenCodec;
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let pair = codec.mint_pair("42", &serde_json::Map::new()).unwrap();
    /// assert_eq!(pair.access.claims.subject(), Some("42"));
    /// ```
    pub fn subject(&self) -> Option<&str> {
        self.user_id.as_id()
    }
}

impl Claims {
    /// The same claims with the extra claims deserialized into `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::Deserialize;
    /// use tower_simplejwt::token::{Claims, UserIdClaim};
    ///
    /// #[derive(Deserialize)]
    /// struct Extra { role: String }
    ///
    /// let mut extra = serde_json::Map::new();
    /// extra.insert("role".into(), "admin".into());
    /// let claims = Claims { token_type: None, jti: "a".repeat(32), exp: 10, iat: None,
    ///     nbf: None, user_id: UserIdClaim::Missing, extra };
    /// assert_eq!(claims.extra_as::<Extra>().unwrap().extra.role, "admin");
    /// ```
    pub fn extra_as<T: DeserializeOwned>(self) -> Result<Claims<T>, serde_json::Error> {
        let extra = T::deserialize(Value::Object(self.extra))?;
        Ok(Claims {
            token_type: self.token_type,
            jti: self.jti,
            exp: self.exp,
            iat: self.iat,
            nbf: self.nbf,
            user_id: self.user_id,
            extra,
        })
    }
}
