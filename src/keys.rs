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

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

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
    /// For HMAC algorithms: the keyed state, computed once.
    hmac: Option<HmacState>,
}

/// An HMAC key with its inner and outer padded states computed once;
/// every token then costs a clone of the state and the hash of the token.
#[derive(Clone)]
enum HmacState {
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

/// The longest HMAC tag (SHA-512).
const MAX_TAG: usize = 64;

impl HmacState {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Option<Self> {
        match algorithm {
            Algorithm::HS256 => Hmac::new_from_slice(secret).ok().map(HmacState::Sha256),
            Algorithm::HS384 => Hmac::new_from_slice(secret).ok().map(HmacState::Sha384),
            Algorithm::HS512 => Hmac::new_from_slice(secret).ok().map(HmacState::Sha512),
            _ => None,
        }
    }

    fn tag(&self, message: &[u8], out: &mut [u8; MAX_TAG]) -> usize {
        fn finish<M: Mac + Clone>(state: &M, message: &[u8], out: &mut [u8]) -> usize {
            let mut mac = state.clone();
            mac.update(message);
            let tag = mac.finalize().into_bytes();
            out[..tag.len()].copy_from_slice(&tag);
            tag.len()
        }
        match self {
            HmacState::Sha256(state) => finish(state, message, out),
            HmacState::Sha384(state) => finish(state, message, out),
            HmacState::Sha512(state) => finish(state, message, out),
        }
    }

    /// Constant-time check of `tag` against the message's tag.
    fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        fn check<M: Mac + Clone>(state: &M, message: &[u8], tag: &[u8]) -> bool {
            let mut mac = state.clone();
            mac.update(message);
            mac.verify_slice(tag).is_ok()
        }
        match self {
            HmacState::Sha256(state) => check(state, message, tag),
            HmacState::Sha384(state) => check(state, message, tag),
            HmacState::Sha512(state) => check(state, message, tag),
        }
    }
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
            hmac: HmacState::new(algorithm, secret.as_bytes()),
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
            hmac: None,
        };
        pair.check()?;
        Ok(pair)
    }

    /// The algorithm every token is signed and verified with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether signatures are HMAC tags (cheap to verify) rather than asymmetric signatures.
    pub(crate) fn is_hmac(&self) -> bool {
        self.hmac.is_some()
    }

    /// The base64url signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<String, String> {
        match &self.hmac {
            Some(hmac) => {
                let mut tag = [0u8; MAX_TAG];
                let length = hmac.tag(message, &mut tag);
                Ok(URL_SAFE_NO_PAD.encode(&tag[..length]))
            }
            None => jsonwebtoken::crypto::sign(message, &self.encoding, self.algorithm)
                .map_err(|error| error.to_string()),
        }
    }

    /// Whether `signature` (base64url, unpadded, as in the token) signs `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &str) -> bool {
        match &self.hmac {
            Some(hmac) => {
                // A signature longer than any tag cannot match; decoding refuses it.
                let mut tag = [0u8; MAX_TAG];
                match URL_SAFE_NO_PAD.decode_slice(signature, &mut tag) {
                    Ok(length) => hmac.verify(message, &tag[..length]),
                    Err(_) => false,
                }
            }
            None => matches!(
                jsonwebtoken::crypto::verify(signature, message, &self.decoding, self.algorithm),
                Ok(true)
            ),
        }
    }

    /// Signs and verifies a probe message, so that a malformed or mismatched
    /// key fails now; for HMAC, also checks the keyed state against jsonwebtoken.
    fn check(&self) -> Result<(), ConfigError> {
        const PROBE: &[u8] = b"eyJhbGciOiJub25lIn0.eyJwcm9iZSI6dHJ1ZX0";
        let invalid = |reason: String| ConfigError::InvalidKey(self.algorithm, reason);
        let signature = jsonwebtoken::crypto::sign(PROBE, &self.encoding, self.algorithm)
            .map_err(|error| invalid(error.to_string()))?;
        match jsonwebtoken::crypto::verify(&signature, PROBE, &self.decoding, self.algorithm) {
            Ok(true) => {}
            Ok(false) => {
                return Err(invalid(
                    "the verifying key does not match the signing key".into(),
                ))
            }
            Err(error) => return Err(invalid(error.to_string())),
        }
        if self.hmac.is_some()
            && (self.sign(PROBE).ok().as_deref() != Some(signature.as_str())
                || !self.verify(PROBE, &signature))
        {
            return Err(invalid("the HMAC state disagrees with jsonwebtoken".into()));
        }
        Ok(())
    }
}
