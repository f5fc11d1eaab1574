//! Signing keys and algorithms: the secret, key pairs, audience and issuer.

use std::fmt;

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

use super::JwtConfig;

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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::Secret;
    ///
    /// assert_eq!(Secret::from("s3cret").expose(), "s3cret");
    /// ```
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

impl JwtConfig {
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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::Algorithm;
    ///
    /// let config = JwtConfig::default().with_hmac(Algorithm::HS512, "a secret of 64 bytes or more for HS512");
    /// assert_eq!(config.algorithm, Algorithm::HS512);
    /// assert_eq!(config.verifying_key, None);
    /// ```
    pub fn with_hmac(mut self, algorithm: Algorithm, secret: impl Into<Secret>) -> Self {
        self.algorithm = algorithm;
        self.signing_key = secret.into();
        self.verifying_key = None;
        self
    }

    /// Sets the audience minted into and required of tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::new("secret").with_audience("api");
    /// assert_eq!(config.audience.as_deref(), Some("api"));
    /// ```
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets the issuer minted into and required of tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::new("secret").with_issuer("https://auth.example");
    /// assert_eq!(config.issuer.as_deref(), Some("https://auth.example"));
    /// ```
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
}
