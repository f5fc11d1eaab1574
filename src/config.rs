//! [`JwtConfig`]: every setting, with djangorestframework-simplejwt's names and defaults.
//!
//! The defaults are simplejwt's own (access 5 min, refresh 1 day, no
//! rotation); [`JwtConfig::simplejwt_guide`] is the preset of the guide that
//! the contract was observed under (access 2 h, refresh 7 d, rotation with
//! blacklisting). A configuration is plain data that serde can load; it is
//! checked, and its keys parsed, once by [`TokenCodec::new`](crate::token::TokenCodec::new).
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

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    #[serde(with = "seconds")]
    pub access_token_lifetime: Duration,
    /// `REFRESH_TOKEN_LIFETIME` (default 1 day). Seconds in serde.
    #[serde(with = "seconds")]
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
    #[serde(with = "seconds")]
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
    #[serde(with = "seconds")]
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
    #[serde(with = "seconds")]
    pub jwks_max_age: Duration,
    /// How many verified tokens to remember (default 10 000, 0 turns it
    /// off), so a token presented again skips its signature check (35–90 µs
    /// for RS*, PS*, ES* and EdDSA; under 1 µs with decoding and parsing for
    /// HS*, still several times a lookup). Entries are keyed by the whole
    /// token; expiry and every other rule are checked again on each use.
    /// Refresh tokens, presented once each, are not remembered.
    pub verified_token_cache_capacity: usize,
}

/// What a replay of an already rotated refresh token (after the grace window) does.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::ReusePolicy;
///
/// assert_eq!(ReusePolicy::default(), ReusePolicy::RevokeFamily);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReusePolicy {
    /// Refuse the replay and revoke the whole family, the successor included (RFC 9700).
    #[default]
    RevokeFamily,
    /// Refuse the replay only; the successor keeps working (the reference's behaviour).
    BlacklistOnly,
}

/// The paths of the four token endpoints.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::EndpointPaths;
///
/// let paths = EndpointPaths::default();
/// assert_eq!(paths.obtain, "/api/token/");
/// assert_eq!(paths.blacklist, "/api/token/blacklist/");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointPaths {
    /// Obtain a pair from credentials (default `/api/token/`).
    pub obtain: String,
    /// Exchange a refresh token (default `/api/token/refresh/`).
    pub refresh: String,
    /// Check any token (default `/api/token/verify/`).
    pub verify: String,
    /// Log out a refresh token (default `/api/token/blacklist/`).
    pub blacklist: String,
    /// The public keys as a JWK Set (default `/.well-known/jwks.json`).
    pub jwks: String,
    /// OpenID discovery, served when an issuer is configured (default
    /// `/.well-known/openid-configuration`).
    pub openid_configuration: String,
}

impl Default for EndpointPaths {
    fn default() -> Self {
        EndpointPaths {
            obtain: "/api/token/".into(),
            refresh: "/api/token/refresh/".into(),
            verify: "/api/token/verify/".into(),
            blacklist: "/api/token/blacklist/".into(),
            jwks: "/.well-known/jwks.json".into(),
            openid_configuration: "/.well-known/openid-configuration".into(),
        }
    }
}

/// The `SameSite` attribute of the token cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SameSite {
    /// Sent on same-site requests only (default).
    #[default]
    Strict,
    /// Also sent on top-level cross-site navigations.
    Lax,
    /// Sent everywhere (requires `Secure`).
    None,
}

impl SameSite {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// Tokens carried in cookies instead of (or besides) JavaScript-visible storage.
///
/// When enabled, the obtain and refresh endpoints also set the tokens as
/// `HttpOnly` cookies (their JSON bodies stay as the contract says), the
/// refresh and blacklist endpoints take the refresh token from its cookie
/// when the body has none, the blacklist endpoint clears both cookies, and
/// the authentication layer takes the access token from its cookie when no
/// `Authorization` header is sent.
///
/// Cookies are sent by the browser on its own, so a site that authenticates
/// with them must refuse cross-site requests (CSRF): put tower-http's
/// `CsrfLayer` (`Sec-Fetch-Site` / `Origin` checks) in front of every route
/// that changes state, the token endpoints included. `SameSite=Strict`
/// (the default) is a second line of defence, not a replacement.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::{CookieSettings, JwtConfig};
///
/// let config = JwtConfig::simplejwt_guide("secret").with_cookies(CookieSettings::enabled());
/// assert_eq!(config.cookies.refresh_name, "refresh_token");
/// assert_eq!(config.refresh_cookie_path(), "/api/token/refresh/");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CookieSettings {
    /// Whether tokens travel in cookies (default false).
    pub enabled: bool,
    /// The access token cookie (default `access_token`, path `/`).
    pub access_name: String,
    /// The refresh token cookie (default `refresh_token`).
    pub refresh_name: String,
    /// The `Secure` attribute (default true: HTTPS only).
    pub secure: bool,
    /// The `SameSite` attribute (default `Strict`).
    pub same_site: SameSite,
    /// The `Domain` attribute (default none: the exact host).
    pub domain: Option<String>,
    /// The refresh cookie's `Path`. Default: the refresh endpoint's path, so
    /// the browser sends it nowhere else; `/` when automatic refresh is on,
    /// since every protected route then needs it.
    pub refresh_path: Option<String>,
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings {
            enabled: false,
            access_name: "access_token".into(),
            refresh_name: "refresh_token".into(),
            secure: true,
            same_site: SameSite::Strict,
            domain: None,
            refresh_path: None,
        }
    }
}

impl CookieSettings {
    /// Cookies on, with the default names and attributes.
    pub fn enabled() -> Self {
        CookieSettings {
            enabled: true,
            ..CookieSettings::default()
        }
    }
}

/// Automatic refresh: an expired access token sent with a refresh
/// credential is refreshed on the spot.
///
/// When the access token fails only because it expired, and the request
/// carries a refresh token (the `request_header`, or the refresh cookie in
/// cookie mode) of the same subject, the authentication layer rotates it as
/// the refresh endpoint would, serves the request, and returns the new tokens
/// in the `access_header` / `refresh_header` response headers (or as
/// cookies in cookie mode). Browsers read those headers only when they are
/// listed in `Access-Control-Expose-Headers` for cross-origin requests.
///
/// Parallel requests carrying the same expired pair all succeed only
/// through the reuse grace window, so with rotation and blacklisting on,
/// `reuse_grace` must be above zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tower_simplejwt::config::{AutoRefreshSettings, JwtConfig, ReusePolicy};
///
/// let config = JwtConfig::simplejwt_guide("secret")
///     .with_auto_refresh(AutoRefreshSettings::enabled())
///     .with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
/// assert_eq!(config.auto_refresh.request_header, "X-Refresh-Token");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoRefreshSettings {
    /// Whether expired access tokens are refreshed automatically (default false).
    pub enabled: bool,
    /// The request header carrying the refresh token (default `X-Refresh-Token`).
    pub request_header: String,
    /// The response header carrying the new access token (default `X-Access-Token`).
    pub access_header: String,
    /// The response header carrying the new refresh token (default `X-Refresh-Token`).
    pub refresh_header: String,
}

impl Default for AutoRefreshSettings {
    fn default() -> Self {
        AutoRefreshSettings {
            enabled: false,
            request_header: "X-Refresh-Token".into(),
            access_header: "X-Access-Token".into(),
            refresh_header: "X-Refresh-Token".into(),
        }
    }
}

impl AutoRefreshSettings {
    /// Automatic refresh on, with the default header names.
    pub fn enabled() -> Self {
        AutoRefreshSettings {
            enabled: true,
            ..AutoRefreshSettings::default()
        }
    }
}

/// A secret that never shows in `Debug` output or logs.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::Secret;
///
/// let secret = Secret::from("hunter2");
/// assert_eq!(format!("{secret:?}"), "Secret(***)");
/// assert_eq!(secret.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.to_owned())
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A configuration that cannot work, found when it is built.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::{ConfigError, JwtConfig};
/// use tower_simplejwt::token::TokenCodec;
///
/// let error = TokenCodec::new(&JwtConfig::new("")).unwrap_err();
/// assert!(matches!(error, ConfigError::EmptySecret));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An HMAC algorithm with an empty secret.
    #[error("the signing key (HMAC secret) is empty")]
    EmptySecret,
    /// An HMAC secret shorter than the hash output (RFC 7518 §3.2): one
    /// captured token would let it be guessed offline.
    #[error(
        "the {algorithm:?} secret is {length} bytes, but it must be at least {minimum} bytes \
         (RFC 7518 §3.2; one captured token lets a short secret be guessed offline): \
         use a random secret such as the output of `openssl rand -hex {minimum}`"
    )]
    SecretTooShort {
        /// The HMAC algorithm.
        algorithm: Algorithm,
        /// The secret's length in bytes.
        length: usize,
        /// The least length for `algorithm`: its hash output in bytes.
        minimum: usize,
    },
    /// A PEM key given where an HMAC secret is expected.
    #[error("{0:?} takes a shared secret, but the signing key is a PEM key (RS/ES/EdDSA key given for an HMAC algorithm?)")]
    PemKeyForHmac(Algorithm),
    /// An asymmetric algorithm without a verifying (public) key.
    #[error("{0:?} needs a verifying key (the PEM public key)")]
    MissingVerifyingKey(Algorithm),
    /// A key that does not parse, or a key pair that does not match.
    #[error("invalid key for {0:?}: {1}")]
    InvalidKey(Algorithm, String),
    /// An algorithm this crate does not sign with.
    #[error("{0:?} is not supported")]
    UnsupportedAlgorithm(Algorithm),
    /// A lifetime or limit that must be positive is zero.
    #[error("`{0}` must be greater than zero")]
    Zero(&'static str),
    /// A claim name, header name or header type that is empty or unusable.
    #[error("`{0}` is not usable: {1}")]
    Invalid(&'static str, String),
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 60 * 60),
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            algorithm: Algorithm::HS256,
            signing_key: Secret::default(),
            verifying_key: None,
            key_id: None,
            audience: None,
            issuer: None,
            leeway: Duration::ZERO,
            auth_header_name: "Authorization".into(),
            auth_header_types: vec!["Bearer".into()],
            user_id_claim: "user_id".into(),
            token_type_claim: "token_type".into(),
            jti_claim: "jti".into(),
            check_user_is_active: true,
            paths: EndpointPaths::default(),
            reuse_grace: Duration::ZERO,
            reuse_policy: ReusePolicy::RevokeFamily,
            accept_unrecorded_refresh_tokens: true,
            cookies: CookieSettings::default(),
            auto_refresh: AutoRefreshSettings::default(),
            max_body_bytes: 64 * 1024,
            max_token_bytes: 8 * 1024,
            jwks_max_age: Duration::from_secs(300),
            verified_token_cache_capacity: 10_000,
        }
    }
}

impl JwtConfig {
    /// simplejwt's defaults, signing with `signing_key` (an HS256 secret).
    pub fn new(signing_key: impl Into<Secret>) -> Self {
        JwtConfig {
            signing_key: signing_key.into(),
            ..JwtConfig::default()
        }
    }

    /// The guide's preset: access 2 h, refresh 7 d, rotation on, blacklist after rotation on.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::simplejwt_guide("secret");
    /// assert_eq!(config.access_token_lifetime.as_secs(), 7200);
    /// assert_eq!(config.refresh_token_lifetime.as_secs(), 604_800);
    /// assert!(config.rotate_refresh_tokens && config.blacklist_after_rotation);
    /// ```
    pub fn simplejwt_guide(signing_key: impl Into<Secret>) -> Self {
        JwtConfig {
            access_token_lifetime: Duration::from_secs(2 * 60 * 60),
            refresh_token_lifetime: Duration::from_secs(7 * 24 * 60 * 60),
            rotate_refresh_tokens: true,
            blacklist_after_rotation: true,
            ..JwtConfig::new(signing_key)
        }
    }

    /// Sets `access_token_lifetime`.
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Sets `refresh_token_lifetime`.
    pub fn with_refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Sets `rotate_refresh_tokens` and `blacklist_after_rotation`.
    pub fn with_rotation(mut self, rotate: bool, blacklist_after_rotation: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self.blacklist_after_rotation = blacklist_after_rotation;
        self
    }

    /// Signs with an asymmetric algorithm: a PEM private key and its PEM public key.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::Algorithm;
    ///
    /// let config = JwtConfig::default().with_key_pair(Algorithm::ES256, "PRIVATE PEM", "PUBLIC PEM");
    /// assert_eq!(config.algorithm, Algorithm::ES256);
    /// ```
    pub fn with_key_pair(
        mut self,
        algorithm: Algorithm,
        private_pem: impl Into<Secret>,
        public_pem: impl Into<String>,
    ) -> Self {
        self.algorithm = algorithm;
        self.signing_key = private_pem.into();
        self.verifying_key = Some(public_pem.into());
        self
    }

    /// Sets the HMAC algorithm (HS256, HS384 or HS512) and its secret.
    pub fn with_hmac(mut self, algorithm: Algorithm, secret: impl Into<Secret>) -> Self {
        self.algorithm = algorithm;
        self.signing_key = secret.into();
        self.verifying_key = None;
        self
    }

    /// Sets the audience minted into and required of tokens.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets the issuer minted into and required of tokens.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the leeway on `exp`, `nbf` and `iat`.
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the endpoint paths.
    pub fn with_paths(mut self, paths: EndpointPaths) -> Self {
        self.paths = paths;
        self
    }

    /// Sets the reuse grace window and what a replay after it revokes.
    pub fn with_reuse(mut self, grace: Duration, policy: ReusePolicy) -> Self {
        self.reuse_grace = grace;
        self.reuse_policy = policy;
        self
    }

    /// Sets the cookie transport.
    pub fn with_cookies(mut self, cookies: CookieSettings) -> Self {
        self.cookies = cookies;
        self
    }

    /// Sets automatic refresh.
    pub fn with_auto_refresh(mut self, auto_refresh: AutoRefreshSettings) -> Self {
        self.auto_refresh = auto_refresh;
        self
    }

    /// The refresh cookie's path: as configured, else `/` with automatic
    /// refresh, else the refresh endpoint's path.
    pub fn refresh_cookie_path(&self) -> &str {
        match &self.cookies.refresh_path {
            Some(path) => path,
            None if self.auto_refresh.enabled => "/",
            None => &self.paths.refresh,
        }
    }

    /// Checks everything that does not need the keys parsed.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.access_token_lifetime.as_secs() == 0 {
            return Err(ConfigError::Zero("access_token_lifetime"));
        }
        if self.refresh_token_lifetime.as_secs() == 0 {
            return Err(ConfigError::Zero("refresh_token_lifetime"));
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::Zero("max_body_bytes"));
        }
        if self.max_token_bytes == 0 {
            return Err(ConfigError::Zero("max_token_bytes"));
        }
        let claims = [
            ("user_id_claim", &self.user_id_claim),
            ("token_type_claim", &self.token_type_claim),
            ("jti_claim", &self.jti_claim),
        ];
        for (setting, name) in claims {
            if name.is_empty() || ["exp", "iat", "nbf"].contains(&name.as_str()) {
                return Err(ConfigError::Invalid(
                    setting,
                    format!("claim name {name:?}"),
                ));
            }
        }
        if http::HeaderName::from_bytes(self.auth_header_name.as_bytes()).is_err() {
            return Err(ConfigError::Invalid(
                "auth_header_name",
                self.auth_header_name.clone(),
            ));
        }
        if self.auth_header_types.is_empty() {
            return Err(ConfigError::Invalid(
                "auth_header_types",
                "no header type".into(),
            ));
        }
        if let Some(bad) = self
            .auth_header_types
            .iter()
            .find(|t| t.is_empty() || t.contains(' '))
        {
            return Err(ConfigError::Invalid(
                "auth_header_types",
                format!("{bad:?}"),
            ));
        }
        self.check_transport()
    }

    fn check_transport(&self) -> Result<(), ConfigError> {
        let headers = [
            (
                "auto_refresh.request_header",
                &self.auto_refresh.request_header,
            ),
            (
                "auto_refresh.access_header",
                &self.auto_refresh.access_header,
            ),
            (
                "auto_refresh.refresh_header",
                &self.auto_refresh.refresh_header,
            ),
        ];
        for (setting, name) in headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::Invalid(setting, name.clone()));
            }
        }
        let cookie_names = [
            ("cookies.access_name", &self.cookies.access_name),
            ("cookies.refresh_name", &self.cookies.refresh_name),
        ];
        let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        for (setting, name) in cookie_names {
            if name.is_empty() || !name.chars().all(token_char) {
                return Err(ConfigError::Invalid(setting, name.clone()));
            }
        }
        if self.cookies.same_site == SameSite::None && !self.cookies.secure {
            return Err(ConfigError::Invalid(
                "cookies.same_site",
                "SameSite=None requires Secure".into(),
            ));
        }
        let rotation_blacklists = self.rotate_refresh_tokens && self.blacklist_after_rotation;
        if self.auto_refresh.enabled && rotation_blacklists && self.reuse_grace.is_zero() {
            return Err(ConfigError::Invalid(
                "reuse_grace",
                "automatic refresh with rotation needs a grace window above 0, or parallel \
                 requests carrying the same expired pair log the user out"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Durations as whole seconds in serde.
mod seconds {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        duration: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_secs())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_simplejwts() {
        let config = JwtConfig::default();
        assert_eq!(config.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(config.refresh_token_lifetime, Duration::from_secs(86_400));
        assert!(!config.rotate_refresh_tokens);
        assert!(!config.blacklist_after_rotation);
        assert_eq!(config.algorithm, Algorithm::HS256);
        assert_eq!(config.leeway, Duration::ZERO);
        assert_eq!(config.auth_header_name, "Authorization");
        assert_eq!(config.user_id_claim, "user_id");
        assert_eq!(config.token_type_claim, "token_type");
        assert_eq!(config.jti_claim, "jti");
        assert!(config.check_user_is_active);
        assert_eq!(config.reuse_grace, Duration::ZERO);
        assert_eq!(config.max_body_bytes, 65_536);
    }

    #[test]
    fn serde_round_trip_and_unknown_fields() {
        let config = JwtConfig::simplejwt_guide("k")
            .with_reuse(Duration::from_secs(5), ReusePolicy::BlacklistOnly);
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<JwtConfig>(&json).unwrap(), config);
        assert!(json.contains(r#""reuse_policy":"blacklist-only""#));
        assert!(serde_json::from_str::<JwtConfig>(r#"{"acess_token_lifetime": 5}"#).is_err());
    }

    #[test]
    fn transport_settings_are_checked() {
        let auto =
            JwtConfig::simplejwt_guide("k").with_auto_refresh(AutoRefreshSettings::enabled());
        assert!(matches!(
            auto.check(),
            Err(ConfigError::Invalid("reuse_grace", _))
        ));
        let auto = auto.with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
        assert_eq!(auto.check(), Ok(()));
        assert_eq!(auto.refresh_cookie_path(), "/");
        let mut bad = JwtConfig::new("k").with_cookies(CookieSettings::enabled());
        bad.cookies.refresh_name = "refresh token".into();
        assert!(matches!(
            bad.check(),
            Err(ConfigError::Invalid("cookies.refresh_name", _))
        ));
        let mut bad = JwtConfig::new("k");
        bad.cookies.same_site = SameSite::None;
        bad.cookies.secure = false;
        assert!(matches!(
            bad.check(),
            Err(ConfigError::Invalid("cookies.same_site", _))
        ));
        let mut bad = JwtConfig::new("k");
        bad.auto_refresh.access_header = "X Access".into();
        assert!(matches!(
            bad.check(),
            Err(ConfigError::Invalid("auto_refresh.access_header", _))
        ));
    }

    #[test]
    fn zero_lifetimes_and_bad_names_are_refused() {
        let zero = JwtConfig::new("k").with_access_token_lifetime(Duration::ZERO);
        assert_eq!(
            zero.check(),
            Err(ConfigError::Zero("access_token_lifetime"))
        );
        let zero = JwtConfig::new("k").with_refresh_token_lifetime(Duration::from_millis(500));
        assert_eq!(
            zero.check(),
            Err(ConfigError::Zero("refresh_token_lifetime"))
        );
        let mut bad = JwtConfig::new("k");
        bad.jti_claim = String::new();
        assert!(matches!(
            bad.check(),
            Err(ConfigError::Invalid("jti_claim", _))
        ));
        let mut bad = JwtConfig::new("k");
        bad.auth_header_types = vec!["Bearer Token".into()];
        assert!(matches!(
            bad.check(),
            Err(ConfigError::Invalid("auth_header_types", _))
        ));
        let mut bad = JwtConfig::new("k");
        bad.auth_header_name = "Bad Header".into();
        assert!(matches!(
            bad.check(),
            Err(ConfigError::Invalid("auth_header_name", _))
        ));
    }
}
