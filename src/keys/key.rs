//! [`Key`]: one algorithm and its key material, parsed and checked once.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::family::{family_of, min_secret_bytes, KeyFamily};
use super::hmac_state::{HmacState, MAX_TAG};
use super::signer::PreparedSigner;
use crate::config::ConfigError;

/// A key bound to one algorithm: it verifies, and signs when it holds the
/// secret or private key. Its algorithm is fixed here; a token's header
/// only ever selects among keys (by `kid`), never the algorithm.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::keys::Key;
/// use tower_simplejwt::Algorithm;
///
/// // An RSA key is refused for an HMAC algorithm.
/// let pem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
/// assert!(Key::from_secret(Algorithm::HS256, pem).is_err());
/// ```
#[derive(Clone)]
pub struct Key {
    pub(super) kid: Option<String>,
    pub(super) algorithm: Algorithm,
    /// Present on keys that can sign (the HMAC secret, or a private key).
    pub(super) encoding: Option<EncodingKey>,
    pub(super) decoding: DecodingKey,
    /// For HMAC algorithms: the keyed state, computed once.
    pub(super) hmac: Option<HmacState>,
    /// For ES256, ES384 and EdDSA private keys: the key parsed once.
    pub(super) signer: Option<PreparedSigner>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("can_sign", &self.encoding.is_some())
            .finish_non_exhaustive()
    }
}

impl Key {
    /// An HMAC key (HS256, HS384, HS512) from its shared secret; it signs and verifies.
    ///
    /// The secret must be at least as long as the hash output (32 bytes for
    /// HS256, 48 for HS384, 64 for HS512; RFC 7518 §3.2), or it is
    /// [`ConfigError::SecretTooShort`]: a short secret can be found offline
    /// from one captured token. `openssl rand -hex 32` makes a good HS256
    /// secret (64 bytes of text).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::ConfigError;
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// let secret = "3f1c0e9b7a26d4c8e5f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcd";
    /// assert!(Key::from_secret(Algorithm::HS256, secret).is_ok());
    /// assert_eq!(
    ///     Key::from_secret(Algorithm::HS256, "secret").unwrap_err(),
    ///     ConfigError::SecretTooShort { algorithm: Algorithm::HS256, length: 6, minimum: 32 },
    /// );
    /// ```
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
        if let Some(minimum) = min_secret_bytes(algorithm).filter(|&min| secret.len() < min) {
            return Err(ConfigError::SecretTooShort {
                algorithm,
                length: secret.len(),
                minimum,
            });
        }
        let key = Key {
            kid: None,
            algorithm,
            encoding: Some(EncodingKey::from_secret(secret.as_bytes())),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            hmac: HmacState::new(algorithm, secret.as_bytes()),
            signer: None,
        };
        key.check()?;
        Ok(key)
    }

    /// An asymmetric key (RS*, PS*, ES256/384, EdDSA) from a PEM private key
    /// (it then signs; the public key is derived from it when not given)
    /// and/or a PEM public key (verify-only when alone).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// // Not a key at all: refused when loading, not when signing.
    /// assert!(Key::from_pem(Algorithm::ES256, Some("nope"), None).is_err());
    /// assert!(Key::from_pem(Algorithm::ES256, None, None).is_err());
    /// ```
    pub fn from_pem(
        algorithm: Algorithm,
        private_pem: Option<&str>,
        public_pem: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let invalid = |error: jsonwebtoken::errors::Error| {
            ConfigError::InvalidKey(algorithm, error.to_string())
        };
        let family = family_of(algorithm)?;
        let encoding = match private_pem.map(str::as_bytes) {
            None => None,
            Some(private) => Some(
                match family {
                    KeyFamily::Hmac => return Err(ConfigError::PemKeyForHmac(algorithm)),
                    KeyFamily::Rsa => EncodingKey::from_rsa_pem(private),
                    KeyFamily::Ec => EncodingKey::from_ec_pem(private),
                    KeyFamily::Ed => EncodingKey::from_ed_pem(private),
                }
                .map_err(invalid)?,
            ),
        };
        let decoding = match (public_pem.map(str::as_bytes), &encoding) {
            (Some(public), _) => match family {
                KeyFamily::Hmac => return Err(ConfigError::PemKeyForHmac(algorithm)),
                KeyFamily::Rsa => DecodingKey::from_rsa_pem(public),
                KeyFamily::Ec => DecodingKey::from_ec_pem(public),
                KeyFamily::Ed => DecodingKey::from_ed_pem(public),
            }
            .map_err(invalid)?,
            (None, Some(private)) => {
                let public = Jwk::from_encoding_key(private, algorithm).map_err(invalid)?;
                DecodingKey::from_jwk(&public).map_err(invalid)?
            }
            (None, None) => return Err(ConfigError::MissingVerifyingKey(algorithm)),
        };
        let signer = encoding
            .as_ref()
            .and_then(|encoding| PreparedSigner::new(algorithm, encoding));
        let key = Key {
            kid: None,
            algorithm,
            encoding,
            decoding,
            hmac: None,
            signer,
        };
        key.check()?;
        Ok(key)
    }

    /// The same key under this `kid` (the token header's key id).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// let key = Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap().with_kid("2026-12");
    /// assert_eq!(key.kid(), Some("2026-12"));
    /// ```
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// let key = Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap();
    /// assert_eq!(key.kid(), None, "HMAC keys have a kid only when given one");
    /// ```
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether the key can sign (an HMAC secret or a private key).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// assert!(Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap().can_sign());
    /// ```
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// The algorithm every token is signed and verified with.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// let key = Key::from_secret(Algorithm::HS384, "a long random secret of 48 bytes or more, for HS384").unwrap();
    /// assert_eq!(key.algorithm(), Algorithm::HS384);
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether signatures are HMAC tags (cheap to verify) rather than asymmetric signatures.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// assert!(Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap().is_hmac());
    /// ```
    pub fn is_hmac(&self) -> bool {
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
            None => match (&self.signer, &self.encoding) {
                (Some(signer), _) => Ok(URL_SAFE_NO_PAD.encode(signer.sign(message))),
                (None, Some(encoding)) => {
                    jsonwebtoken::crypto::sign(message, encoding, self.algorithm)
                        .map_err(|error| error.to_string())
                }
                (None, None) => Err("this key only verifies".into()),
            },
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
        let Some(encoding) = &self.encoding else {
            return Ok(());
        };
        let signature = jsonwebtoken::crypto::sign(PROBE, encoding, self.algorithm)
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
        // The prepared signer's signatures must verify as jsonwebtoken's do.
        if self.signer.is_some() {
            let prepared = self.sign(PROBE).map_err(invalid)?;
            if !matches!(
                jsonwebtoken::crypto::verify(&prepared, PROBE, &self.decoding, self.algorithm),
                Ok(true)
            ) {
                return Err(invalid(
                    "the prepared signing key disagrees with jsonwebtoken".into(),
                ));
            }
        }
        Ok(())
    }
}
