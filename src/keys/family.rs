//! Which family of keys an algorithm takes, and how long an HMAC secret must be.

use jsonwebtoken::Algorithm;

use crate::config::ConfigError;

/// The key family an algorithm belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFamily {
    Hmac,
    Rsa,
    Ec,
    Ed,
}

pub(crate) fn family_of(algorithm: Algorithm) -> Result<KeyFamily, ConfigError> {
    Ok(match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyFamily::Hmac,
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => KeyFamily::Rsa,
        Algorithm::ES256 | Algorithm::ES384 => KeyFamily::Ec,
        Algorithm::EdDSA => KeyFamily::Ed,
        _ => return Err(ConfigError::UnsupportedAlgorithm(algorithm)),
    })
}

/// The shortest HMAC secret for `algorithm`, in bytes: its hash output
/// (RFC 7518 §3.2); `None` for other algorithms.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::keys::min_secret_bytes;
/// use tower_simplejwt::Algorithm;
///
/// assert_eq!(min_secret_bytes(Algorithm::HS256), Some(32));
/// assert_eq!(min_secret_bytes(Algorithm::HS512), Some(64));
/// assert_eq!(min_secret_bytes(Algorithm::ES256), None);
/// ```
pub fn min_secret_bytes(algorithm: Algorithm) -> Option<usize> {
    match algorithm {
        Algorithm::HS256 => Some(32),
        Algorithm::HS384 => Some(48),
        Algorithm::HS512 => Some(64),
        _ => None,
    }
}
