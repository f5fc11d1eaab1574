//! The paths the token endpoints answer on.

use serde::{Deserialize, Serialize};

use super::JwtConfig;

/// The paths of the four token endpoints.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::EndpointPaths;
///
/// let paths = EndpointPaths::default();
/// assert_eq!(paths.issue, "/api/token/");
/// assert_eq!(paths.blacklist, "/api/token/blacklist/");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointPaths {
    /// Issue a pair for credentials: log in (default `/api/token/`, simplejwt's
    /// `TokenObtainPairView`). Read from configuration files as `issue` or
    /// its former name `obtain`.
    #[serde(alias = "obtain")]
    pub issue: String,
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
            issue: "/api/token/".into(),
            refresh: "/api/token/refresh/".into(),
            verify: "/api/token/verify/".into(),
            blacklist: "/api/token/blacklist/".into(),
            jwks: "/.well-known/jwks.json".into(),
            openid_configuration: "/.well-known/openid-configuration".into(),
        }
    }
}

impl JwtConfig {
    /// Sets the endpoint paths.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::{EndpointPaths, JwtConfig};
    ///
    /// let paths = EndpointPaths {
    ///     issue: "/auth/login/".into(),
    ///     ..EndpointPaths::default()
    /// };
    /// let config = JwtConfig::new("secret").with_paths(paths);
    /// assert_eq!(config.paths.issue, "/auth/login/");
    /// assert_eq!(config.paths.refresh, "/api/token/refresh/");
    /// ```
    pub fn with_paths(mut self, paths: EndpointPaths) -> Self {
        self.paths = paths;
        self
    }
}
