//! Automatic refresh of expired access tokens by the authentication layer.

use serde::{Deserialize, Serialize};

use super::JwtConfig;

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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::AutoRefreshSettings;
    ///
    /// let settings = AutoRefreshSettings::enabled();
    /// assert!(settings.enabled);
    /// assert_eq!(settings.access_header, "X-Access-Token");
    /// ```
    pub fn enabled() -> Self {
        AutoRefreshSettings {
            enabled: true,
            ..AutoRefreshSettings::default()
        }
    }
}

impl JwtConfig {
    /// Sets automatic refresh.
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
    /// assert!(config.auto_refresh.enabled);
    /// ```
    pub fn with_auto_refresh(mut self, auto_refresh: AutoRefreshSettings) -> Self {
        self.auto_refresh = auto_refresh;
        self
    }
}
