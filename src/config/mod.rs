//! [`JwtConfig`]: every setting, with djangorestframework-simplejwt's names and defaults.
//!
//! The defaults are simplejwt's own (access 5 min, refresh 1 day, no
//! rotation); [`JwtConfig::simplejwt_guide`] is the preset of the guide that
//! the contract was observed under (access 2 h, refresh 7 d, rotation with
//! blacklisting). A configuration is plain data that serde can load; it is
//! checked, and its keys parsed, once, when the token codec
//! (`token::TokenCodec::new`) is built from it.
//!
//! The settings are grouped by concern: lifetimes and rotation
//! ([`ReusePolicy`]), signing keys and algorithms ([`Secret`]), the
//! endpoints' paths ([`EndpointPaths`]), cookies ([`CookieSettings`],
//! [`SameSite`]), automatic refresh ([`AutoRefreshSettings`]), and the
//! checks a configuration must pass ([`ConfigError`]).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tower_simplejwt::config::JwtConfig;
//!
//! let config = JwtConfig::simplejwt_guide("change me: a long random secret")
//!     .with_access_token_lifetime(Duration::from_secs(15 * 60));
//! assert!(config.rotate_refresh_tokens);
//!
//! let from_file: JwtConfig = serde_json::from_str(
//!     r#"{"signing_key": "s3cret", "access_token_lifetime": 300, "rotate_refresh_tokens": true}"#,
//! ).unwrap();
//! assert_eq!(from_file.access_token_lifetime, Duration::from_secs(300));
//! ```

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

mod auto_refresh;
mod cookies;
mod lifetimes;
mod paths;
mod presets;
mod signing;
mod validation;

pub use auto_refresh::AutoRefreshSettings;
pub use cookies::{CookieSettings, SameSite};
pub use lifetimes::ReusePolicy;
pub use paths::EndpointPaths;
pub use signing::Secret;
pub use validation::ConfigError;

#[cfg(test)]
mod tests;

/// All settings of the token engine and the middleware.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
///
/// let config = JwtConfig::new("secret");
/// assert_eq!(config.access_token_lifetime.as_secs(), 300);
/// assert_eq!(config.refresh_token_lifetime.as_secs(), 86_400);
/// assert_eq!(config.auth_header_types, ["Bearer"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct JwtConfig {
    /// `ACCESS_TOKEN_LIFETIME` (default 5 minutes). Seconds in serde.
    #[serde(with = "lifetimes::seconds")]
    pub access_token_lifetime: Duration,
    /// `REFRESH_TOKEN_LIFETIME` (default 1 day). Seconds in serde.
    #[serde(with = "lifetimes::seconds")]
    pub refresh_token_lifetime: Duration,
    /// `ROTATE_REFRESH_TOKENS`: the refresh endpoint also returns a new refresh token (default false).
    pub rotate_refresh_tokens: bool,
    /// `BLACKLIST_AFTER_ROTATION`: a rotated refresh token is refused from then on (default false).
    pub blacklist_after_rotation: bool,
    /// `ALGORITHM` (default HS256). The token header never overrides it.
    pub algorithm: Algorithm,
    /// `SIGNING_KEY`: the HMAC secret, or a PEM private key for asymmetric algorithms.
    pub signing_key: Secret,
    /// `VERIFYING_KEY`: the PEM public key for asymmetric algorithms
    /// (derived from the private key when not given).
    pub verifying_key: Option<String>,
    /// The `kid` of the signing key (**ours**). Asymmetric keys without one
    /// get their RFC 7638 thumbprint; HMAC tokens carry a `kid` only when set.
    pub key_id: Option<String>,
    /// `AUDIENCE`: put in minted tokens and required of verified ones when set.
    pub audience: Option<String>,
    /// `ISSUER`: put in minted tokens and required of verified ones when set.
    pub issuer: Option<String>,
    /// `LEEWAY` on `exp`, `nbf` and `iat` (default 0). Seconds in serde.
    #[serde(with = "lifetimes::seconds")]
    pub leeway: Duration,
    /// `AUTH_HEADER_NAME` (default `Authorization`).
    pub auth_header_name: String,
    /// `AUTH_HEADER_TYPES` (default `["Bearer"]`), matched case-sensitively.
    pub auth_header_types: Vec<String>,
    /// `USER_ID_CLAIM` (default `user_id`).
    pub user_id_claim: String,
    /// `TOKEN_TYPE_CLAIM` (default `token_type`).
    pub token_type_claim: String,
    /// `JTI_CLAIM` (default `jti`).
    pub jti_claim: String,
    /// `CHECK_USER_IS_ACTIVE`: refuse tokens of inactive users (default true).
    pub check_user_is_active: bool,
    /// The token endpoints' paths.
    pub paths: EndpointPaths,
    /// How long a rotated refresh token may be presented again and get the same
    /// successor (default 0: never). Seconds in serde.
    ///
    /// With 0, a second use of a rotated token is reuse: two browser tabs that
    /// refresh at once, or a client that retries after a lost reply, log the
    /// user out. A few seconds cures both; raise it when automatic refresh or
    /// several tabs are in play.
    #[serde(with = "lifetimes::seconds")]
    pub reuse_grace: Duration,
    /// What a replay of a rotated refresh token after the grace window revokes.
    pub reuse_policy: ReusePolicy,
    /// Accept a validly signed refresh token whose `jti` the store has never
    /// seen, starting a new family (default true, as the reference does, for
    /// tokens minted by another server sharing the key). Turn off once a
    /// migration is over.
    pub accept_unrecorded_refresh_tokens: bool,
    /// Tokens in HttpOnly cookies (off by default); see [`CookieSettings`].
    pub cookies: CookieSettings,
    /// Automatic refresh of expired access tokens by the authentication
    /// layer (off by default); see [`AutoRefreshSettings`].
    pub auto_refresh: AutoRefreshSettings,
    /// Largest request body the endpoints read (default 64 KiB); more is 413.
    pub max_body_bytes: usize,
    /// Longest token accepted (default 8 KiB); longer ones are "Token is invalid" unread.
    pub max_token_bytes: usize,
    /// How long clients may cache the JWKS (`Cache-Control: max-age`, default
    /// 5 minutes). Keep it well below the time between adding a key as
    /// verify-only and signing with it. Seconds in serde.
    #[serde(with = "lifetimes::seconds")]
    pub jwks_max_age: Duration,
    /// How many verified tokens to remember (default 10 000, 0 turns it
    /// off), so a token presented again skips its signature check (35–90 µs
    /// for RS*, PS*, ES* and EdDSA; under 1 µs with decoding and parsing for
    /// HS*, still several times a lookup). Entries are keyed by the whole
    /// token; expiry and every other rule are checked again on each use.
    /// Refresh tokens, presented once each, are not remembered.
    pub verified_token_cache_capacity: usize,
}
