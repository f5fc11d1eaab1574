//! Tokens in HttpOnly cookies, and what cookie mode asks of the site (CSRF).

use serde::{Deserialize, Serialize};

use super::JwtConfig;

/// The `SameSite` attribute of the token cookies.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::{CookieSettings, SameSite};
///
/// assert_eq!(CookieSettings::default().same_site, SameSite::Strict);
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::SameSite;
    ///
    /// assert_eq!(SameSite::Lax.as_str(), "Lax");
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::CookieSettings;
    ///
    /// let cookies = CookieSettings::enabled();
    /// assert!(cookies.enabled && cookies.secure);
    /// assert_eq!(cookies.access_name, "access_token");
    /// ```
    pub fn enabled() -> Self {
        CookieSettings {
            enabled: true,
            ..CookieSettings::default()
        }
    }
}

impl JwtConfig {
    /// Sets the cookie transport.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::{CookieSettings, JwtConfig};
    ///
    /// let config = JwtConfig::new("secret").with_cookies(CookieSettings::enabled());
    /// assert!(config.cookies.enabled);
    /// ```
    pub fn with_cookies(mut self, cookies: CookieSettings) -> Self {
        self.cookies = cookies;
        self
    }

    /// The refresh cookie's path: as configured, else `/` with automatic
    /// refresh, else the refresh endpoint's path.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::{CookieSettings, JwtConfig};
    ///
    /// let config = JwtConfig::new("secret").with_cookies(CookieSettings::enabled());
    /// assert_eq!(config.refresh_cookie_path(), "/api/token/refresh/");
    /// ```
    pub fn refresh_cookie_path(&self) -> &str {
        match &self.cookies.refresh_path {
            Some(path) => path,
            None if self.auto_refresh.enabled => "/",
            None => &self.paths.refresh,
        }
    }
}
