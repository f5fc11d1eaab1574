//! How tokens travel besides JSON bodies: cookies, and the headers of automatic refresh.

use http::header::{
    HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL, COOKIE, PRAGMA, SET_COOKIE, VARY,
};

use crate::config::{ConfigError, JwtConfig};

/// Header names of automatic refresh, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct RefreshHeaders {
    pub(crate) request: HeaderName,
    pub(crate) access: HeaderName,
    pub(crate) refresh: HeaderName,
}

impl RefreshHeaders {
    pub(crate) fn from_config(config: &JwtConfig) -> Result<Self, ConfigError> {
        let parse = |setting: &'static str, name: &str| {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConfigError::Invalid(setting, name.to_owned()))
        };
        let settings = &config.auto_refresh;
        Ok(RefreshHeaders {
            request: parse("auto_refresh.request_header", &settings.request_header)?,
            access: parse("auto_refresh.access_header", &settings.access_header)?,
            refresh: parse("auto_refresh.refresh_header", &settings.refresh_header)?,
        })
    }
}

/// Tokens minted while serving a request, to hand to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuedTokens {
    pub(crate) access: String,
    /// The new refresh token, when refresh tokens rotate.
    pub(crate) refresh: Option<String>,
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

fn set_cookie(
    config: &JwtConfig,
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
) -> Option<HeaderValue> {
    let settings = &config.cookies;
    let mut cookie = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly");
    if settings.secure {
        cookie.push_str("; Secure");
    }
    cookie.push_str("; SameSite=");
    cookie.push_str(settings.same_site.as_str());
    if let Some(domain) = &settings.domain {
        cookie.push_str("; Domain=");
        cookie.push_str(domain);
    }
    // Token characters and configured names are all visible ASCII.
    HeaderValue::from_str(&cookie).ok()
}

/// Adds `Set-Cookie` for the given tokens (cookie mode), each living as long as its token.
pub(crate) fn set_token_cookies(
    headers: &mut HeaderMap,
    config: &JwtConfig,
    access: Option<&str>,
    refresh: Option<&str>,
) {
    let cookies = &config.cookies;
    if let Some(access) = access {
        let max_age = config.access_token_lifetime.as_secs();
        headers.extend(
            set_cookie(config, &cookies.access_name, access, "/", max_age).map(|v| (SET_COOKIE, v)),
        );
    }
    if let Some(refresh) = refresh {
        let max_age = config.refresh_token_lifetime.as_secs();
        let path = config.refresh_cookie_path();
        headers.extend(
            set_cookie(config, &cookies.refresh_name, refresh, path, max_age)
                .map(|v| (SET_COOKIE, v)),
        );
    }
}

/// Adds `Set-Cookie` headers that delete both token cookies (logout).
pub(crate) fn clear_token_cookies(headers: &mut HeaderMap, config: &JwtConfig) {
    let cookies = &config.cookies;
    let cleared = [
        set_cookie(config, &cookies.access_name, "", "/", 0),
        set_cookie(
            config,
            &cookies.refresh_name,
            "",
            config.refresh_cookie_path(),
            0,
        ),
    ];
    headers.extend(
        cleared
            .into_iter()
            .flatten()
            .map(|value| (SET_COOKIE, value)),
    );
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
/// request carried: `auth_header`, the refresh request header, and `Cookie`
/// in cookie mode.
pub(crate) fn deliver(
    headers: &mut HeaderMap,
    config: &JwtConfig,
    auth_header: &HeaderName,
    names: &RefreshHeaders,
    issued: &IssuedTokens,
) {
    forbid_storing(headers);
    match config.cookies.enabled {
        true => vary_on(headers, &[auth_header, &names.request, &COOKIE]),
        false => vary_on(headers, &[auth_header, &names.request]),
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

    use super::*;
    use crate::config::{AutoRefreshSettings, CookieSettings, ReusePolicy, SameSite};

    const SECRET: &str = "transport-test-secret-of-32-bytes";

    #[test]
    fn reads_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; access_token=abc.def.ghi"),
        );
        headers.append(
            COOKIE,
            HeaderValue::from_static("refresh_token=\"r.r.r\"; empty="),
        );
        assert_eq!(cookie(&headers, "access_token"), Some("abc.def.ghi"));
        assert_eq!(cookie(&headers, "refresh_token"), Some("r.r.r"));
        assert_eq!(cookie(&headers, "empty"), None);
        assert_eq!(cookie(&headers, "access"), None);
    }

    fn set_cookies(headers: &HeaderMap) -> Vec<&str> {
        headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn cookie_attributes() {
        let config = JwtConfig::simplejwt_guide(SECRET).with_cookies(CookieSettings::enabled());
        let mut headers = HeaderMap::new();
        set_token_cookies(&mut headers, &config, Some("A"), Some("R"));
        assert_eq!(
            set_cookies(&headers),
            [
                "access_token=A; Path=/; Max-Age=7200; HttpOnly; Secure; SameSite=Strict",
                "refresh_token=R; Path=/api/token/refresh/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict",
            ]
        );
        let mut lax = config.clone();
        lax.cookies.same_site = SameSite::Lax;
        lax.cookies.secure = false;
        lax.cookies.domain = Some("example.com".into());
        let mut headers = HeaderMap::new();
        clear_token_cookies(&mut headers, &lax);
        assert_eq!(
            set_cookies(&headers),
            [
                "access_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Domain=example.com",
                "refresh_token=; Path=/api/token/refresh/; Max-Age=0; HttpOnly; SameSite=Lax; Domain=example.com",
            ]
        );
    }

    #[test]
    fn delivery_by_header_or_cookie() {
        let config = JwtConfig::simplejwt_guide(SECRET)
            .with_auto_refresh(AutoRefreshSettings::enabled())
            .with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
        let names = RefreshHeaders::from_config(&config).unwrap();
        let issued = IssuedTokens {
            access: "A".into(),
            refresh: Some("R".into()),
        };
        let authorization = http::header::AUTHORIZATION;
        let mut headers = HeaderMap::new();
        deliver(&mut headers, &config, &authorization, &names, &issued);
        assert_eq!(headers["x-access-token"], "A");
        assert_eq!(headers["x-refresh-token"], "R");
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert_eq!(headers[VARY], "authorization, x-refresh-token");
        let cookies = config.with_cookies(CookieSettings::enabled());
        let mut headers = HeaderMap::new();
        deliver(&mut headers, &cookies, &authorization, &names, &issued);
        assert_eq!(headers[VARY], "authorization, x-refresh-token, cookie");
        assert!(headers.get("x-access-token").is_none());
        assert_eq!(
            set_cookies(&headers)[1],
            "refresh_token=R; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict",
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
        let names = RefreshHeaders::from_config(&config).unwrap();
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
        deliver(
            &mut headers,
            &config,
            &http::header::AUTHORIZATION,
            &names,
            &issued,
        );
        assert_eq!(values(&headers, &CACHE_CONTROL), ["no-store"]);
        assert_eq!(values(&headers, &PRAGMA), ["no-cache"]);
        assert_eq!(
            values(&headers, &VARY),
            ["Accept-Encoding, Authorization", "x-refresh-token"],
            "appended, nothing listed twice"
        );

        let mut everything = HeaderMap::new();
        everything.insert(VARY, HeaderValue::from_static("*"));
        deliver(
            &mut everything,
            &config,
            &http::header::AUTHORIZATION,
            &names,
            &issued,
        );
        assert_eq!(values(&everything, &VARY), ["*"]);
    }
}
