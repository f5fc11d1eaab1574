//! Tokens minted by automatic refresh, handed to the client on the app's
//! response: the configured response headers, or cookies in cookie mode.

use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CACHE_CONTROL, COOKIE, PRAGMA, VARY,
};

use super::cookies::set_token_cookies;
use crate::config::JwtConfig;

/// The header names of authentication and automatic refresh, parsed once per layer.
#[derive(Debug, Clone)]
pub(crate) struct HeaderNames {
    /// The header carrying the access token (`Authorization`).
    pub(crate) auth: HeaderName,
    /// The request header carrying the refresh token for automatic refresh.
    pub(crate) request: HeaderName,
    /// The response header carrying a refreshed access token.
    pub(crate) access: HeaderName,
    /// The response header carrying a rotated refresh token.
    pub(crate) refresh: HeaderName,
}

impl HeaderNames {
    /// The names a configuration gives. `Jwt::build` has checked that each
    /// parses; should one not, the default is used and the fault logged.
    pub(crate) fn from_config(config: &JwtConfig) -> Self {
        let parse = |setting: &str, name: &str, default: HeaderName| {
            HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|_| {
                tracing::error!(setting, name, "not a header name; using the default");
                default
            })
        };
        let settings = &config.auto_refresh;
        HeaderNames {
            auth: parse("auth_header_name", &config.auth_header_name, AUTHORIZATION),
            request: parse(
                "auto_refresh.request_header",
                &settings.request_header,
                HeaderName::from_static("x-refresh-token"),
            ),
            access: parse(
                "auto_refresh.access_header",
                &settings.access_header,
                HeaderName::from_static("x-access-token"),
            ),
            refresh: parse(
                "auto_refresh.refresh_header",
                &settings.refresh_header,
                HeaderName::from_static("x-refresh-token"),
            ),
        }
    }
}

/// Tokens minted while serving a request, to hand to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuedTokens {
    pub(crate) access: String,
    /// The new refresh token, when refresh tokens rotate.
    pub(crate) refresh: Option<String>,
}

/// Forbids every cache to store the response (RFC 6749 §5.1, RFC 9111
/// §5.2.2.5), replacing whatever `Cache-Control` it had: it carries tokens.
/// `Pragma: no-cache` is for HTTP/1.0 caches.
pub(crate) fn forbid_storing(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Adds `names` to the response's `Vary` that it does not list yet
/// (case-insensitively); a `Vary: *` already says everything.
fn vary_on(headers: &mut HeaderMap, names: &[&HeaderName]) {
    let listed: Vec<String> = headers
        .get_all(VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    if listed.iter().any(|name| name == "*") {
        return;
    }
    let mut missing: Vec<&str> = Vec::new();
    for name in names {
        if !listed.iter().any(|listed| listed == name.as_str()) && !missing.contains(&name.as_str())
        {
            missing.push(name.as_str());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&missing.join(", ")) {
        if !missing.is_empty() {
            headers.append(VARY, value);
        }
    }
}

/// Hands tokens minted by automatic refresh to the client: cookies in cookie
/// mode, the configured response headers otherwise. The app's response now
/// carries one user's fresh tokens, so no cache may store it, whatever the
/// app said (`public`, `max-age`), and it varies with the credentials the
/// request carried: the authentication header, the refresh request header, and `Cookie`
/// in cookie mode.
pub(crate) fn deliver(
    headers: &mut HeaderMap,
    config: &JwtConfig,
    names: &HeaderNames,
    issued: &IssuedTokens,
) {
    forbid_storing(headers);
    match config.cookies.enabled {
        true => vary_on(headers, &[&names.auth, &names.request, &COOKIE]),
        false => vary_on(headers, &[&names.auth, &names.request]),
    }
    if config.cookies.enabled {
        set_token_cookies(
            headers,
            config,
            Some(&issued.access),
            issued.refresh.as_deref(),
        );
        return;
    }
    if let Ok(access) = HeaderValue::from_str(&issued.access) {
        headers.insert(names.access.clone(), access);
    }
    if let Some(Ok(refresh)) = issued.refresh.as_deref().map(HeaderValue::from_str) {
        headers.insert(names.refresh.clone(), refresh);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::header::SET_COOKIE;

    use super::*;
    use crate::config::{AutoRefreshSettings, CookieSettings, ReusePolicy};

    const SECRET: &str = "transport-test-secret-of-32-bytes";

    fn set_cookies(headers: &HeaderMap) -> Vec<&str> {
        headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn delivery_by_header_or_cookie() {
        let config = JwtConfig::simplejwt_guide(SECRET)
            .with_auto_refresh(AutoRefreshSettings::enabled())
            .with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
        let names = HeaderNames::from_config(&config);
        let issued = IssuedTokens {
            access: "A".into(),
            refresh: Some("R".into()),
        };
        let mut headers = HeaderMap::new();
        deliver(&mut headers, &config, &names, &issued);
        assert_eq!(headers["x-access-token"], "A");
        assert_eq!(headers["x-refresh-token"], "R");
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert_eq!(headers[VARY], "authorization, x-refresh-token");
        let cookies = config.with_cookies(CookieSettings::enabled());
        let mut headers = HeaderMap::new();
        deliver(&mut headers, &cookies, &names, &issued);
        assert_eq!(headers[VARY], "authorization, x-refresh-token, cookie");
        assert!(headers.get("x-access-token").is_none());
        assert_eq!(
            set_cookies(&headers),
            [
                "__Host-access_token=A; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict",
                "__Secure-refresh_token=R; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict",
            ],
            "with automatic refresh the refresh cookie is sent everywhere"
        );
    }

    fn values<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Vec<&'a str> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn delivery_overrides_what_the_app_said_about_caching() {
        let config = JwtConfig::simplejwt_guide(SECRET)
            .with_auto_refresh(AutoRefreshSettings::enabled())
            .with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
        let names = HeaderNames::from_config(&config);
        let issued = IssuedTokens {
            access: "A".into(),
            refresh: None,
        };
        let mut headers = HeaderMap::new();
        headers.append(CACHE_CONTROL, HeaderValue::from_static("public"));
        headers.append(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
        headers.append(
            VARY,
            HeaderValue::from_static("Accept-Encoding, Authorization"),
        );
        deliver(&mut headers, &config, &names, &issued);
        assert_eq!(values(&headers, &CACHE_CONTROL), ["no-store"]);
        assert_eq!(values(&headers, &PRAGMA), ["no-cache"]);
        assert_eq!(
            values(&headers, &VARY),
            ["Accept-Encoding, Authorization", "x-refresh-token"],
            "appended, nothing listed twice"
        );

        let mut everything = HeaderMap::new();
        everything.insert(VARY, HeaderValue::from_static("*"));
        deliver(&mut everything, &config, &names, &issued);
        assert_eq!(values(&everything, &VARY), ["*"]);
    }
}
