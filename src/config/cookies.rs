//! Tokens in HttpOnly cookies, and what cookie mode asks of the site (CSRF).

use std::borrow::Cow;

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

/// Tokens carried in `HttpOnly` cookies instead of JavaScript-visible storage.
///
/// When enabled (**ours**, the contract's bodies change):
/// - the obtain and refresh endpoints set the tokens as `HttpOnly` cookies
///   and keep them out of their JSON bodies, so no script on the page can
///   read them: the obtain answer is `200 {}` and the refresh answer
///   `200 {}`, or `{"access"}` for both when [`access_in_body`](Self::access_in_body)
///   asks for it (dj-rest-auth's `JWT_AUTH_HTTPONLY` turned off for the
///   access token); the refresh token never travels in a body;
/// - the refresh and blacklist endpoints take the refresh token from its
///   cookie when the body has none, and the blacklist endpoint clears both
///   cookies;
/// - the authentication layer takes the access token from its cookie when
///   no `Authorization` header is sent.
///
/// Rules of cookie mode:
/// - **A name sent twice is no credential.** A sibling subdomain can plant a
///   cookie of the same name (with `Domain` set to the parent); a request
///   whose `Cookie` headers carry a token cookie's name more than once is
///   read as carrying none of it, never "first wins".
/// - **Prefixed names.** The default names carry the prefixes browsers
///   protect: `__Host-access_token` (`Path=/`, `Secure`, no `Domain`: only
///   this host can set it) and `__Secure-refresh_token` (`Secure`; its path
///   is the refresh endpoint's). A browser drops a prefixed cookie whose
///   attributes break the prefix's rule, so the name falls back to the
///   strongest prefix the attributes allow: `__Host-` becomes `__Secure-`
///   when a `domain` is set (or, for the refresh cookie, its path is not
///   `/`), and either prefix is dropped when `secure` is off. The names in
///   use are [`JwtConfig::access_cookie_name`] and
///   [`JwtConfig::refresh_cookie_name`].
/// - **Lifetimes.** Both cookies live as long as the refresh token
///   (`Max-Age`), the access cookie included: an expired access token must
///   still reach the server, where automatic refresh (when on) replaces it
///   and an expired token is answered 401 "Token is expired" rather than
///   "not provided".
/// - **Paths.** The refresh cookie is scoped to the refresh endpoint's path
///   unless automatic refresh is on (every protected route then needs it) or
///   [`refresh_path`](Self::refresh_path) says otherwise.
/// - **Cross-site requests never rotate.** Automatic refresh answers a
///   cross-site request (`Sec-Fetch-Site: cross-site`, or an `Origin` that
///   is not the request's own host) as one with an expired token (401): the
///   browser would drop the new cookies of a cross-site answer, and the
///   rotated ones would be lost.
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
/// assert_eq!(config.access_cookie_name(), "__Host-access_token");
/// assert_eq!(config.refresh_cookie_name(), "__Secure-refresh_token");
/// assert_eq!(config.refresh_cookie_path(), "/api/token/refresh/");
/// assert!(!config.cookies.access_in_body);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CookieSettings {
    /// Whether tokens travel in cookies (default false).
    pub enabled: bool,
    /// The access token cookie (default `__Host-access_token`, path `/`);
    /// see [`JwtConfig::access_cookie_name`] for the prefix's fallback.
    pub access_name: String,
    /// The refresh token cookie (default `__Secure-refresh_token`); see
    /// [`JwtConfig::refresh_cookie_name`] for the prefix's fallback.
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
    /// Also put the access token in the obtain and refresh bodies (default
    /// false: in cookie mode no token is readable by scripts). The refresh
    /// token is never put in a body in cookie mode.
    pub access_in_body: bool,
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings {
            enabled: false,
            access_name: "__Host-access_token".into(),
            refresh_name: "__Secure-refresh_token".into(),
            secure: true,
            same_site: SameSite::Strict,
            domain: None,
            refresh_path: None,
            access_in_body: false,
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
    /// assert_eq!(cookies.access_name, "__Host-access_token");
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

    /// The access cookie's name in use: `cookies.access_name`, with a
    /// `__Host-` or `__Secure-` prefix the cookie's attributes do not allow
    /// replaced by the strongest one they do (see [`CookieSettings`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::{CookieSettings, JwtConfig};
    ///
    /// let mut config = JwtConfig::new("secret").with_cookies(CookieSettings::enabled());
    /// assert_eq!(config.access_cookie_name(), "__Host-access_token");
    /// config.cookies.domain = Some("example.com".into());
    /// assert_eq!(config.access_cookie_name(), "__Secure-access_token");
    /// config.cookies.secure = false;
    /// assert_eq!(config.access_cookie_name(), "access_token");
    /// ```
    pub fn access_cookie_name(&self) -> Cow<'_, str> {
        allowed_name(&self.cookies, &self.cookies.access_name, "/")
    }

    /// The refresh cookie's name in use: `cookies.refresh_name`, with a
    /// prefix its attributes do not allow replaced as for
    /// [`access_cookie_name`](Self::access_cookie_name) (`__Host-` also needs
    /// the path `/`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::{CookieSettings, JwtConfig};
    ///
    /// let mut cookies = CookieSettings::enabled();
    /// cookies.refresh_name = "__Host-refresh".into();
    /// let config = JwtConfig::new("secret").with_cookies(cookies);
    /// // Scoped to the refresh path, it cannot be a `__Host-` cookie.
    /// assert_eq!(config.refresh_cookie_name(), "__Secure-refresh");
    /// ```
    pub fn refresh_cookie_name(&self) -> Cow<'_, str> {
        allowed_name(
            &self.cookies,
            &self.cookies.refresh_name,
            self.refresh_cookie_path(),
        )
    }
}

const HOST_PREFIX: &str = "__Host-";
const SECURE_PREFIX: &str = "__Secure-";

/// `name` with its prefix lowered to what the attributes allow: `__Host-`
/// needs `Secure`, `Path=/` and no `Domain`; `__Secure-` needs `Secure`.
fn allowed_name<'a>(settings: &CookieSettings, name: &'a str, path: &str) -> Cow<'a, str> {
    if let Some(base) = name.strip_prefix(HOST_PREFIX) {
        return match (settings.secure, settings.domain.is_none() && path == "/") {
            (true, true) => Cow::Borrowed(name),
            (true, false) => Cow::Owned(format!("{SECURE_PREFIX}{base}")),
            (false, _) => Cow::Borrowed(base),
        };
    }
    match name.strip_prefix(SECURE_PREFIX) {
        Some(base) if !settings.secure => Cow::Borrowed(base),
        _ => Cow::Borrowed(name),
    }
}
