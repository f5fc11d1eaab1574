//! The checks a configuration passes before anything is built from it.

use jsonwebtoken::Algorithm;

use super::{JwtConfig, SameSite};

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

impl JwtConfig {
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
        if !is_header_name(&self.auth_header_name) {
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
            if !is_header_name(name) {
                return Err(ConfigError::Invalid(setting, name.clone()));
            }
        }
        let cookie_names = [
            ("cookies.access_name", &self.cookies.access_name),
            ("cookies.refresh_name", &self.cookies.refresh_name),
        ];
        for (setting, name) in cookie_names {
            if !is_token(name) {
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

/// Longest header name the `http` crate accepts.
const MAX_HEADER_NAME_LEN: usize = (1 << 16) - 1;

/// Whether `name` can be sent as a header name: an RFC 9110 token the
/// `http` crate accepts, checked here so that configuration needs no HTTP types.
fn is_header_name(name: &str) -> bool {
    name.len() <= MAX_HEADER_NAME_LEN && is_token(name)
}

/// An RFC 9110 token (`tchar`s, at least one): the syntax of header and cookie names.
fn is_token(name: &str) -> bool {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    !name.is_empty() && name.chars().all(tchar)
}
