//! Signing and verifying keys, parsed once when the configuration is built.
//!
//! HMAC algorithms take a shared secret; RSA (RS*, PS*), EC (ES256, ES384)
//! and Ed25519 (EdDSA) take a PEM private key to sign and a PEM public key to
//! verify. A key pair is checked by a trial signature when it is loaded, so a
//! mismatched or malformed key is a [`ConfigError`] at start-up, never a
//! failure on the first request.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::keys::KeyPair;
//! use tower_simplejwt::Algorithm;
//!
//! let keys = KeyPair::from_secret(Algorithm::HS256, "a long random secret").unwrap();
//! assert_eq!(keys.algorithm(), Algorithm::HS256);
//! assert!(KeyPair::from_secret(Algorithm::HS256, "").is_err());
//! ```

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

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

/// A signing key and its verifying key, bound to one algorithm.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::keys::KeyPair;
/// use tower_simplejwt::Algorithm;
///
/// // An RSA key is refused for an HMAC algorithm.
/// let pem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
/// assert!(KeyPair::from_secret(Algorithm::HS256, pem).is_err());
/// ```
#[derive(Clone)]
pub struct KeyPair {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A key pair for an HMAC algorithm (HS256, HS384, HS512) from its shared secret.
    pub fn from_secret(algorithm: Algorithm, secret: &str) -> Result<Self, ConfigError> {
        if family_of(algorithm)? != KeyFamily::Hmac {
            return Err(ConfigError::MissingVerifyingKey(algorithm));
        }
        if secret.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        if secret.contains("-----BEGIN") {
            return Err(ConfigError::PemKeyForHmac(algorithm));
        }
        let pair = KeyPair {
            algorithm,
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        };
        pair.check()?;
        Ok(pair)
    }

    /// A key pair for an asymmetric algorithm from a PEM private key and the matching PEM public key.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::KeyPair;
    /// use tower_simplejwt::Algorithm;
    ///
    /// // Not a key at all: refused when loading, not when signing.
    /// assert!(KeyPair::from_pem(Algorithm::ES256, "nope", "nope").is_err());
    /// ```
    pub fn from_pem(
        algorithm: Algorithm,
        private_pem: &str,
        public_pem: &str,
    ) -> Result<Self, ConfigError> {
        let (private, public) = (private_pem.as_bytes(), public_pem.as_bytes());
        let keys = match family_of(algorithm)? {
            KeyFamily::Hmac => return Err(ConfigError::PemKeyForHmac(algorithm)),
            KeyFamily::Rsa => EncodingKey::from_rsa_pem(private)
                .and_then(|e| Ok((e, DecodingKey::from_rsa_pem(public)?))),
            KeyFamily::Ec => EncodingKey::from_ec_pem(private)
                .and_then(|e| Ok((e, DecodingKey::from_ec_pem(public)?))),
            KeyFamily::Ed => EncodingKey::from_ed_pem(private)
                .and_then(|e| Ok((e, DecodingKey::from_ed_pem(public)?))),
        };
        let (encoding, decoding) =
            keys.map_err(|error| ConfigError::InvalidKey(algorithm, error.to_string()))?;
        let pair = KeyPair {
            algorithm,
            encoding,
            decoding,
        };
        pair.check()?;
        Ok(pair)
    }

    /// The algorithm every token is signed and verified with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Signs and verifies a probe message, so that a malformed or mismatched key fails now.
    fn check(&self) -> Result<(), ConfigError> {
        const PROBE: &[u8] = b"eyJhbGciOiJub25lIn0.eyJwcm9iZSI6dHJ1ZX0";
        let invalid = |reason: String| ConfigError::InvalidKey(self.algorithm, reason);
        let signature = jsonwebtoken::crypto::sign(PROBE, &self.encoding, self.algorithm)
            .map_err(|error| invalid(error.to_string()))?;
        match jsonwebtoken::crypto::verify(&signature, PROBE, &self.decoding, self.algorithm) {
            Ok(true) => Ok(()),
            Ok(false) => Err(invalid(
                "the verifying key does not match the signing key".into(),
            )),
            Err(error) => Err(invalid(error.to_string())),
        }
    }
}
