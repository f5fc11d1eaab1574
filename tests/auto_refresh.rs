//! Automatic refresh of expired access tokens, and the cookie transport.

mod support;

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::Full;
use serde_json::json;
use support::*;
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::AuthLayer;

const GRACE: u64 = 10;

async fn auto_refresh_server() -> Server {
    Server::start_configured(|options| {
        options.auto_refresh = true;
        options.reuse_grace = Duration::from_secs(GRACE);
    })
    .await
}

async fn me_with_pair(server: &Server, access: &str, refresh: &str) -> Answer {
    let authorization = format!("Bearer {access}");
    let headers = [
        ("authorization", authorization.as_str()),
        ("x-refresh-token", refresh),
    ];
    server.request(Method::GET, "/api/me/", &headers, "").await
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_on_the_fly() {
    let server = auto_refresh_server().await;
    let (refresh, access) = server.login(ALICE).await;
    server.advance(7200);
    let answer = me_with_pair(&server, &access, &refresh).await;
    answer.assert(200, json!({"username": "alice"}));
    let new_access = answer.headers["x-access-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let new_refresh = answer.headers["x-refresh-token"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims_of(&new_access)["iat"], json!(START + 7200));
    assert_ne!(new_refresh, refresh);
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert_eq!(answer.headers["vary"], "authorization, x-refresh-token");
    server
        .me(&new_access)
        .await
        .assert(200, json!({"username": "alice"}));
    // A valid access token is served as usual, with no new tokens.
    let plain = me_with_pair(&server, &new_access, &new_refresh).await;
    assert!(plain.headers.get("x-access-token").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_requests_with_one_expired_pair() {
    let server = auto_refresh_server().await;
    let (refresh, access) = server.login(ALICE).await;
    server.advance(7200);
    let mut requests = Vec::new();
    for _ in 0..50 {
        requests.push(me_with_pair(&server, &access, &refresh));
    }
    let answers = futures_join_all(requests).await;
    let mut successors = HashSet::new();
    for answer in &answers {
        answer.assert(200, json!({"username": "alice"}));
        successors.insert(
            answer.headers["x-refresh-token"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(successors.len(), 1, "one successor, one live family");
    let successor = successors.into_iter().next().unwrap();
    // The successor is the family's one live token; the old one is used.
    server
        .post("/api/token/verify/", json!({"token": refresh}))
        .await
        .assert(400, json!({"non_field_errors": ["Token is blacklisted"]}));
    server
        .post("/api/token/verify/", json!({"token": successor}))
        .await
        .assert(200, json!({}));

    // After the grace window the old refresh credential is reuse: blacklisted, family revoked.
    server.advance(GRACE);
    me_with_pair(&server, &access, &refresh)
        .await
        .assert(401, token_error("Token is blacklisted"));
    server
        .post("/api/token/refresh/", json!({"refresh": successor}))
        .await
        .assert(401, token_error("Token is blacklisted"));
}

/// Polls the futures concurrently on this task (they borrow the server, so they are not spawned).
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures
        .into_iter()
        .map(|future| Some(Box::pin(future)))
        .collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                if let std::task::Poll::Ready(value) = future.as_mut().poll(cx) {
                    *output = Some(value);
                    *slot = None;
                }
            }
        }
        if pending.iter().all(Option::is_none) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|output| output.expect("every future finished"))
        .collect()
}

#[tokio::test]
async fn failures_are_the_ordinary_401() {
    let server = auto_refresh_server().await;
    let (refresh, access) = server.login(ALICE).await;
    server.advance(7200);
    // No refresh credential: the guide's 401, unchanged.
    server
        .me(&access)
        .await
        .assert(401, wrapped("Token is expired"));
    // A refresh credential that is not a refresh token, or not this user's.
    me_with_pair(&server, &access, &access)
        .await
        .assert(401, wrapped("Token is expired"));
    me_with_pair(&server, &access, "garbage")
        .await
        .assert(401, wrapped("Token is expired"));
    let carol_refresh = server.login(CAROL).await.0;
    me_with_pair(&server, &access, &carol_refresh)
        .await
        .assert(401, wrapped("Token is expired"));
    // A logged-out refresh token: blacklisted.
    let (logged_out, other_access) = server.login(ALICE).await;
    server
        .post("/api/token/blacklist/", json!({"refresh": logged_out}))
        .await
        .assert(200, json!({}));
    server.advance(7200);
    me_with_pair(&server, &other_access, &logged_out)
        .await
        .assert(401, token_error("Token is blacklisted"));
    // An expired refresh token: the guide's 401.
    server.advance(604_800);
    me_with_pair(&server, &access, &refresh)
        .await
        .assert(401, wrapped("Token is expired"));
    // Tokens that are invalid for another reason than expiry are not refreshed.
    let bad = forge(
        HS256,
        &claims("access", json!("1"), START),
        "another-secret",
    );
    me_with_pair(&server, &bad, &refresh)
        .await
        .assert(401, wrapped("Token is invalid"));
}

/// A route of the app that says its answers may be cached by anyone for
/// an hour, behind `AuthLayer` with the server's settings.
async fn public_route(server: &Server, headers: &[(&str, &str)]) -> HeaderMap {
    let app =
        AuthLayer::new(server.app_jwt.clone()).layer(service_fn(|_: Request<Full<Bytes>>| async {
            let mut response = Response::new(Full::from("{}"));
            let headers = response.headers_mut();
            headers.insert("cache-control", "public, max-age=3600".parse().unwrap());
            headers.insert("vary", "Accept-Encoding".parse().unwrap());
            Ok::<_, Infallible>(response)
        }));
    let mut request = Request::get("/public/");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .oneshot(request.body(Full::default()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers().clone()
}

fn all<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_refreshed_answer_is_no_store_even_where_the_app_said_public() {
    let server = auto_refresh_server().await;
    let (refresh, access) = server.login(ALICE).await;
    let authorization = format!("Bearer {access}");
    let pair = [
        ("authorization", authorization.as_str()),
        ("x-refresh-token", refresh.as_str()),
    ];
    // No tokens added: the app's answer is left as it is.
    let untouched = public_route(&server, &pair).await;
    assert_eq!(all(&untouched, "cache-control"), ["public, max-age=3600"]);
    assert_eq!(all(&untouched, "vary"), ["Accept-Encoding"]);

    server.advance(7200);
    let refreshed = public_route(&server, &pair).await;
    assert!(refreshed.contains_key("x-access-token") && refreshed.contains_key("x-refresh-token"));
    assert_eq!(
        all(&refreshed, "cache-control"),
        ["no-store"],
        "no shared cache may hand this user's new tokens to the next visitor"
    );
    assert_eq!(all(&refreshed, "pragma"), ["no-cache"]);
    assert_eq!(
        all(&refreshed, "vary"),
        ["Accept-Encoding", "authorization, x-refresh-token"]
    );
}

// ---- Cookie mode ----

async fn cookie_server() -> Server {
    Server::start_configured(|options| {
        options.cookies = true;
        options.auto_refresh = true;
        options.reuse_grace = Duration::from_secs(GRACE);
    })
    .await
}

fn set_cookies(answer: &Answer) -> Vec<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

/// The `Cookie` header a browser sends back after `answer`'s two cookies.
fn cookie_header(answer: &Answer) -> String {
    let cookies = set_cookies(answer);
    format!(
        "{}; {}",
        cookie_value(&cookies[0]),
        cookie_value(&cookies[1])
    )
}

/// Logs alice in; returns the answer (its cookies carry the tokens).
async fn cookie_login(server: &Server) -> Answer {
    let login = server
        .post(
            "/api/token/",
            json!({"username": "alice", "password": "wonderland-42"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    login
}

#[tokio::test]
async fn cookie_mode_sets_exact_attributes_and_reads_cookies_back() {
    let server = cookie_server().await;
    let login = cookie_login(&server).await;
    assert_eq!(login.body, json!({}), "no token a script could read");
    let cookies = set_cookies(&login);
    let access = cookie_value(&cookies[0]).trim_start_matches("__Host-access_token=");
    let refresh = cookie_value(&cookies[1]).trim_start_matches("__Secure-refresh_token=");
    assert_eq!(claims_of(access)["token_type"], json!("access"));
    assert_eq!(claims_of(refresh)["token_type"], json!("refresh"));
    assert_eq!(
        cookies,
        [
            format!("__Host-access_token={access}; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict"),
            format!("__Secure-refresh_token={refresh}; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict"),
        ],
        "the access cookie outlives its token, so that an expired one reaches automatic refresh"
    );
    let cookie = cookie_header(&login);

    // The access cookie authenticates without an Authorization header.
    let me = server
        .request(Method::GET, "/api/me/", &[("cookie", &cookie)], "")
        .await;
    me.assert(200, json!({"username": "alice"}));

    // Expired access cookie + refresh cookie: refreshed, new cookies set.
    server.advance(7200);
    let refreshed = server
        .request(Method::GET, "/api/me/", &[("cookie", &cookie)], "")
        .await;
    refreshed.assert(200, json!({"username": "alice"}));
    let renewed = set_cookies(&refreshed);
    assert_eq!(renewed.len(), 2, "{renewed:?}");
    assert!(
        renewed[0].starts_with("__Host-access_token=")
            && renewed[0].ends_with("; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict")
    );
    assert!(renewed[1].starts_with("__Secure-refresh_token="));
    assert!(
        refreshed.headers.get("x-access-token").is_none(),
        "cookie mode answers with cookies only"
    );
    assert_eq!(refreshed.headers["cache-control"], "no-store");

    // The refresh endpoint reads the refresh cookie when the body has none (same-origin POST).
    let renewed_cookie = cookie_header(&refreshed);
    let headers = [
        ("cookie", renewed_cookie.as_str()),
        ("content-type", "application/json"),
        ("sec-fetch-site", "same-origin"),
    ];
    let by_cookie = server
        .request(Method::POST, "/api/token/refresh/", &headers, "{}")
        .await;
    by_cookie.assert(200, json!({}));
    assert_eq!(set_cookies(&by_cookie).len(), 2);

    // Logout by cookie clears both cookies.
    let latest = cookie_header(&by_cookie);
    let headers = [
        ("cookie", latest.as_str()),
        ("content-type", "application/json"),
        ("sec-fetch-site", "same-origin"),
    ];
    let logout = server
        .request(Method::POST, "/api/token/blacklist/", &headers, "")
        .await;
    logout.assert(200, json!({}));
    assert_eq!(
        set_cookies(&logout),
        [
            "__Host-access_token=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
            "__Secure-refresh_token=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
        ]
    );
    let headers = [
        ("cookie", latest.as_str()),
        ("content-type", "application/json"),
    ];
    server
        .request(Method::POST, "/api/token/refresh/", &headers, "{}")
        .await
        .assert(401, token_error("Token is blacklisted"));
}

#[tokio::test]
async fn cookie_mode_without_auto_refresh_scopes_the_refresh_cookie() {
    let server = Server::start_configured(|options| options.cookies = true).await;
    let login = cookie_login(&server).await;
    assert_eq!(login.body, json!({}));
    let cookies = set_cookies(&login);
    assert!(
        cookies[1].starts_with("__Secure-refresh_token=")
            && cookies[1].contains("; Path=/api/token/refresh/;"),
        "{cookies:?}"
    );
    assert!(cookies[0].contains("; Max-Age=604800;"), "{cookies:?}");
    // An expired access cookie is "expired", not "not provided": the client refreshes.
    server.advance(7200);
    let access = cookie_value(&cookies[0]);
    server
        .request(Method::GET, "/api/me/", &[("cookie", access)], "")
        .await
        .assert(401, wrapped("Token is expired"));
}

#[tokio::test]
async fn a_token_cookie_sent_twice_is_no_credential() {
    let server = cookie_server().await;
    let login = cookie_login(&server).await;
    let cookies = set_cookies(&login);
    let access = cookie_value(&cookies[0]);
    let refresh = cookie_value(&cookies[1]);
    // A sibling subdomain planted a cookie of the same name (Domain=parent):
    // the browser sends both, in an order the server cannot trust.
    let planted = format!("{access}; __Host-access_token=planted");
    server
        .request(Method::GET, "/api/me/", &[("cookie", &planted)], "")
        .await
        .assert(
            401,
            json!({"detail": "Authentication credentials were not provided."}),
        );
    let planted = format!("__Secure-refresh_token=planted; {refresh}");
    let headers = [
        ("cookie", planted.as_str()),
        ("content-type", "application/json"),
        ("sec-fetch-site", "same-origin"),
    ];
    server
        .request(Method::POST, "/api/token/refresh/", &headers, "{}")
        .await
        .assert(400, json!({"refresh": ["This field is required."]}));
}

#[tokio::test]
async fn automatic_refresh_never_rotates_on_a_cross_site_request_in_cookie_mode() {
    let server = cookie_server().await;
    let login = cookie_login(&server).await;
    let cookie = cookie_header(&login);
    server.advance(7200);
    let host = server.base.trim_start_matches("http://").to_owned();
    let cross_site_requests = [
        vec![
            ("cookie", cookie.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![
            ("cookie", cookie.as_str()),
            ("origin", "https://evil.example"),
        ],
    ];
    for headers in cross_site_requests {
        let refused = server.request(Method::GET, "/api/me/", &headers, "").await;
        refused.assert(401, wrapped("Token is expired"));
        assert!(set_cookies(&refused).is_empty(), "{headers:?}");
    }
    // Nothing was rotated: the same pair still refreshes on a same-origin request.
    let origin = format!("http://{host}");
    let headers = [
        ("cookie", cookie.as_str()),
        ("sec-fetch-site", "same-origin"),
        ("origin", origin.as_str()),
    ];
    let refreshed = server.request(Method::GET, "/api/me/", &headers, "").await;
    refreshed.assert(200, json!({"username": "alice"}));
    assert_eq!(set_cookies(&refreshed).len(), 2);
}

#[tokio::test]
async fn cross_site_posts_are_refused_in_cookie_mode() {
    let server = cookie_server().await;
    let login = cookie_login(&server).await;
    let cookie = cookie_header(&login);
    let host = server.base.trim_start_matches("http://").to_owned();
    let cross_site = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/json"),
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ];
    let refused = server
        .request(Method::POST, "/api/token/refresh/", &cross_site, "{}")
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let same_origin_header = format!("http://{host}");
    let same_origin = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/json"),
        ("sec-fetch-site", "same-origin"),
        ("origin", same_origin_header.as_str()),
    ];
    let allowed = server
        .request(Method::POST, "/api/token/refresh/", &same_origin, "{}")
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
}

#[tokio::test]
async fn a_refreshed_answer_with_cookies_is_no_store_even_where_the_app_said_public() {
    let server = cookie_server().await;
    let login = cookie_login(&server).await;
    let cookie = cookie_header(&login);
    server.advance(7200);
    let refreshed = public_route(&server, &[("cookie", cookie.as_str())]).await;
    assert_eq!(all(&refreshed, "set-cookie").len(), 2);
    assert_eq!(all(&refreshed, "cache-control"), ["no-store"]);
    assert_eq!(
        all(&refreshed, "vary"),
        ["Accept-Encoding", "authorization, x-refresh-token, cookie"]
    );
}
