//! Keys as JWKs (RFC 7517): verify-only keys read from a published set,
//! and the public JWK and thumbprint of our own keys.

use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::family::{family_of, KeyFamily};
use super::Key;
use crate::config::ConfigError;

impl Key {
    /// A verify-only key from a public JWK (RFC 7517), whose `alg` must be set.
    /// An HMAC (`oct`) JWK is refused: secrets are not published.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// // The Ed25519 public key of RFC 8037, appendix A.2.
    /// let jwk = serde_json::from_value(serde_json::json!({
    ///     "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "rfc8037",
    ///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    /// })).unwrap();
    /// let key = Key::from_jwk(&jwk).unwrap();
    /// assert_eq!((key.algorithm(), key.kid()), (Algorithm::EdDSA, Some("rfc8037")));
    /// assert!(!key.can_sign());
    ///
    /// let secret = serde_json::from_value(serde_json::json!({"kty": "oct", "alg": "HS256", "k": "c2VjcmV0"})).unwrap();
    /// assert!(Key::from_jwk(&secret).is_err(), "secrets are never loaded from a JWK");
    /// ```
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, ConfigError> {
        let algorithm = jwk
            .common
            .key_algorithm
            .and_then(|alg| alg.to_string().parse::<Algorithm>().ok())
            .ok_or_else(|| ConfigError::Invalid("jwk", "the key has no usable `alg`".into()))?;
        if family_of(algorithm)? == KeyFamily::Hmac {
            return Err(ConfigError::Invalid(
                "jwk",
                "HMAC secrets are not loaded from JWKs".into(),
            ));
        }
        let decoding = DecodingKey::from_jwk(jwk)
            .map_err(|error| ConfigError::InvalidKey(algorithm, error.to_string()))?;
        Ok(Key {
            kid: jwk.common.key_id.clone(),
            algorithm,
            encoding: None,
            decoding,
            hmac: None,
            signer: None,
        })
    }

    /// The public JWK of an asymmetric key (`None` for HMAC secrets), with
    /// its `kid`, `alg` and `use: sig`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    /// use tower_simplejwt::Algorithm;
    ///
    /// let secret = Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap();
    /// assert!(secret.public_jwk().is_none(), "secrets are never published");
    /// ```
    pub fn public_jwk(&self) -> Option<Jwk> {
        if self.hmac.is_some() {
            return None;
        }
        let mut jwk = Jwk::from_decoding_key(&self.decoding, Some(self.algorithm)).ok()?;
        jwk.common.key_id = self.kid.clone();
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Some(jwk)
    }

    /// The RFC 7638 thumbprint of the public key (base64url SHA-256), a
    /// stable `kid` for keys configured without one.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::Key;
    ///
    /// let jwk = serde_json::from_value(serde_json::json!({
    ///     "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
    ///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    /// })).unwrap();
    /// // The thumbprint of RFC 8037, appendix A.3.
    /// assert_eq!(Key::from_jwk(&jwk).unwrap().thumbprint().as_deref(), Some("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"));
    /// ```
    pub fn thumbprint(&self) -> Option<String> {
        self.public_jwk()?.thumbprint(ThumbprintHash::SHA256).ok()
    }
}
