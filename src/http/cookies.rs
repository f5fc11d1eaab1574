//! Tokens in HttpOnly cookies (cookie mode): reading them from requests,
//! setting and clearing them on responses, the bodies that carry no token a
//! script could read, and the cross-site requests that must not rotate.
//! The rules are documented on `CookieSettings`.

use http::header::{HeaderMap, HeaderValue, COOKIE, HOST, ORIGIN, SET_COOKIE};
use http::Uri;
use serde_json::{json, Value};

use crate::config::JwtConfig;

/// The value of cookie `name` in the request's `Cookie` headers, when it is
/// sent exactly once. A name sent twice (a sibling subdomain can plant a
/// cookie of the same name) is no credential: never "first wins".
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| key.trim_end() == name)
        .map(|(_, value)| value.trim().trim_matches('"'));
    let value = values.next()?;
    if values.next().is_some() {
        tracing::debug!(cookie = name, "cookie sent more than once: ignored");
        return None;
    }
    Some(value).filter(|value| !value.is_empty())
}

/// The JSON body of an obtain or refresh answer in cookie mode: no refresh
/// token, and the access token only when `access_in_body` asks for it.
pub(crate) fn body(config: &JwtConfig, access: &str) -> Value {
    match config.cookies.access_in_body {
        true => json!({ "access": access }),
        false => json!({}),
    }
}

/// Whether the request comes from another site (cookie mode's automatic
/// refresh must not rotate then): `Sec-Fetch-Site: cross-site`, or an
/// `Origin` whose host (and port) is not the request's own.
pub(crate) fn is_cross_site(headers: &HeaderMap, uri: &Uri) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok());
    if fetch_site.is_some_and(|site| site.trim().eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str().map(str::trim) else {
        return true;
    };
    // `Origin: null` (a sandboxed frame, a redirect across sites) is no host of ours.
    let Some((scheme, authority)) = origin.split_once("://") else {
        return true;
    };
    let host = uri
        .authority()
        .map(|authority| authority.as_str())
        .or_else(|| headers.get(HOST).and_then(|value| value.to_str().ok()))
        .map(str::trim);
    let Some(host) = host else {
        return true;
    };
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let without_default = |authority: &str| -> String {
        let authority = authority.to_ascii_lowercase();
        match authority.strip_suffix(default_port) {
            Some(bare) if !default_port.is_empty() => bare.to_owned(),
            _ => authority,
        }
    };
    without_default(authority) != without_default(host)
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

/// Adds `Set-Cookie` for the given tokens (cookie mode). Both cookies live
/// as long as the refresh token: an expired access token must still reach
/// the server, where automatic refresh can replace it.
pub(crate) fn set_token_cookies(
    headers: &mut HeaderMap,
    config: &JwtConfig,
    access: Option<&str>,
    refresh: Option<&str>,
) {
    let max_age = config.refresh_token_lifetime.as_secs();
    if let Some(access) = access {
        let name = config.access_cookie_name();
        headers.extend(set_cookie(config, &name, access, "/", max_age).map(|v| (SET_COOKIE, v)));
    }
    if let Some(refresh) = refresh {
        let name = config.refresh_cookie_name();
        let path = config.refresh_cookie_path();
        headers.extend(set_cookie(config, &name, refresh, path, max_age).map(|v| (SET_COOKIE, v)));
    }
}

/// Adds `Set-Cookie` headers that delete both token cookies (logout).
pub(crate) fn clear_token_cookies(headers: &mut HeaderMap, config: &JwtConfig) {
    let cleared = [
        set_cookie(config, &config.access_cookie_name(), "", "/", 0),
        set_cookie(
            config,
            &config.refresh_cookie_name(),
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

    fn cookie_headers(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn reads_cookies() {
        let headers = cookie_headers(&[
            "theme=dark; access_token=abc.def.ghi",
            "refresh_token=\"r.r.r\"; empty=",
        ]);
        assert_eq!(cookie(&headers, "access_token"), Some("abc.def.ghi"));
        assert_eq!(cookie(&headers, "refresh_token"), Some("r.r.r"));
        assert_eq!(cookie(&headers, "empty"), None);
        assert_eq!(cookie(&headers, "access"), None);
    }

    #[test]
    fn a_name_sent_twice_is_no_credential() {
        // A sibling subdomain planted `access_token` with Domain=parent.
        let planted = cookie_headers(&["access_token=planted; access_token=mine"]);
        assert_eq!(cookie(&planted, "access_token"), None);
        let across_headers = cookie_headers(&["access_token=mine", "theme=dark; access_token=x"]);
        assert_eq!(cookie(&across_headers, "access_token"), None);
        let empty_twin = cookie_headers(&["access_token=; access_token=mine"]);
        assert_eq!(
            cookie(&empty_twin, "access_token"),
            None,
            "never first wins"
        );
        let other_names = cookie_headers(&["__Host-access_token=mine; access_token=planted"]);
        assert_eq!(cookie(&other_names, "__Host-access_token"), Some("mine"));
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
                "__Host-access_token=A; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict",
                "__Secure-refresh_token=R; Path=/api/token/refresh/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict",
            ],
            "the access cookie outlives its token: it lives as long as the refresh token"
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
            ],
            "without Secure the prefixes cannot be used: the names fall back"
        );
        let mut shared = config.clone();
        shared.cookies.domain = Some("example.com".into());
        let mut headers = HeaderMap::new();
        set_token_cookies(&mut headers, &shared, Some("A"), None);
        assert_eq!(
            set_cookies(&headers),
            ["__Secure-access_token=A; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict; Domain=example.com"],
            "with a Domain, __Host- falls back to __Secure-"
        );
    }

    #[test]
    fn bodies_carry_no_refresh_token() {
        let mut config = JwtConfig::new(SECRET).with_cookies(CookieSettings::enabled());
        assert_eq!(body(&config, "A"), json!({}));
        config.cookies.access_in_body = true;
        assert_eq!(body(&config, "A"), json!({"access": "A"}));
    }

    fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn cross_site_requests() {
        let path = Uri::from_static("/api/me/");
        let same = [
            vec![("host", "app.example")],
            vec![("host", "app.example"), ("sec-fetch-site", "same-origin")],
            vec![("host", "app.example"), ("sec-fetch-site", "same-site")],
            vec![("host", "app.example"), ("origin", "https://app.example")],
            vec![
                ("host", "APP.example:443"),
                ("origin", "https://app.example"),
            ],
            vec![
                ("host", "127.0.0.1:8000"),
                ("origin", "http://127.0.0.1:8000"),
            ],
        ];
        for headers in same {
            assert!(!is_cross_site(&request(&headers), &path), "{headers:?}");
        }
        let cross = [
            vec![("host", "app.example"), ("sec-fetch-site", "cross-site")],
            vec![("host", "app.example"), ("origin", "https://evil.example")],
            vec![
                ("host", "app.example"),
                ("origin", "https://app.example:8443"),
            ],
            vec![("host", "app.example"), ("origin", "null")],
            vec![("origin", "https://app.example")],
        ];
        for headers in cross {
            assert!(is_cross_site(&request(&headers), &path), "{headers:?}");
        }
        let absolute = Uri::from_static("https://app.example/api/me/");
        let origin = request(&[("origin", "https://app.example")]);
        assert!(
            !is_cross_site(&origin, &absolute),
            "HTTP/2: the authority is the host"
        );
    }
}
