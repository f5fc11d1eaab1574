//! Tokens in HttpOnly cookies (cookie mode): reading them from requests,
//! setting and clearing them on responses.

use http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};

use crate::config::JwtConfig;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CookieSettings, SameSite};

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
}
