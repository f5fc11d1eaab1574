//! One rule per JOSE header parameter, over HTTP on every path that
//! verifies a token: the protected route (`AuthLayer`), verify, refresh,
//! automatic refresh, and a gRPC call through `AuthLayer`. Each token is
//! signed with the server's own key, so only its header can refuse it.

mod support;

use std::convert::Infallible;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use support::*;
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::AuthLayer;

/// Headers that make a well-signed token `Token is invalid`, and why.
const REFUSED: &[(&str, &str)] = &[
    (
        "crit naming an unknown extension (issue 17)",
        r#"{"alg":"HS256","typ":"JWT","crit":["x-unknown"],"x-unknown":true}"#,
    ),
    (
        "crit naming a registered claim",
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
    ),
    (
        "crit malformed: empty",
        r#"{"alg":"HS256","typ":"JWT","crit":[]}"#,
    ),
    (
        "crit malformed: not a list",
        r#"{"alg":"HS256","typ":"JWT","crit":"x-unknown"}"#,
    ),
    (
        "crit malformed: null",
        r#"{"alg":"HS256","typ":"JWT","crit":null}"#,
    ),
    (
        "b64 (RFC 7797)",
        r#"{"alg":"HS256","typ":"JWT","b64":false,"crit":["b64"]}"#,
    ),
    (
        "jku: a key URL",
        r#"{"alg":"HS256","typ":"JWT","jku":"http://attacker.example/jwks.json"}"#,
    ),
    (
        "x5u: a certificate URL",
        r#"{"alg":"HS256","typ":"JWT","x5u":"http://attacker.example/cert.pem"}"#,
    ),
    (
        "jwk: an embedded key",
        r#"{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"YXR0YWNrZXI"}}"#,
    ),
    (
        "x5c: an embedded certificate",
        r#"{"alg":"HS256","typ":"JWT","x5c":["MIIBszCCAVmgAwIBAgIU"]}"#,
    ),
    (
        "enc: a JWE header",
        r#"{"alg":"HS256","typ":"JWT","enc":"A256GCM"}"#,
    ),
    (
        "zip: JWE compression",
        r#"{"alg":"HS256","typ":"JWT","zip":"DEF"}"#,
    ),
    (
        "a duplicate parameter",
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
    ),
    (
        "kid not a string",
        r#"{"alg":"HS256","typ":"JWT","kid":null}"#,
    ),
];

/// Headers whose parameters are ignored (or, `kid`, used among our keys only).
const ACCEPTED: &[(&str, &str)] = &[
    ("the contract's header", r#"{"alg":"HS256","typ":"JWT"}"#),
    (
        "a kid naming no key of ours",
        r#"{"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"}"#,
    ),
    (
        "cty, x5t and x5t#S256",
        r#"{"alg":"HS256","typ":"JWT","cty":"JWT","x5t":"dGh1bWI","x5t#S256":"dGh1bWI"}"#,
    ),
    (
        "unregistered parameters",
        r#"{"alg":"HS256","typ":"JWT","x-unknown":true,"Crit":["x"]}"#,
    ),
];

fn sign(header: &str, claims: &Value) -> String {
    forge(header, claims, SECRET)
}

/// The same claims as `token` (same `jti`), under another header, re-signed with the server's key.
fn reheadered(token: &str, header: &str) -> String {
    sign(header, &claims_of(token))
}

/// A gRPC call through `AuthLayer` over the server's `Jwt`: its status and message.
async fn grpc_call(server: &Server, access: &str) -> (Option<String>, Option<String>) {
    let service = AuthLayer::new(server.app_jwt.clone()).layer(service_fn(
        |_request: Request<Full<Bytes>>| async {
            let mut response = Response::new(Full::new(Bytes::new()));
            response
                .headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static("0"));
            Ok::<_, Infallible>(response)
        },
    ));
    let request = Request::post("/greeter.v1.Greeter/WhoAmI")
        .header("content-type", "application/grpc")
        .header("authorization", format!("Bearer {access}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let (status, message) = (header("grpc-status"), header("grpc-message"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(body.is_empty(), "a trailers-only gRPC answer");
    (status, message)
}

#[tokio::test]
async fn refused_headers_on_every_path() {
    let server = Server::start().await;
    for (why, header) in REFUSED {
        let (refresh, access) = server.login(ALICE).await;
        let bad_access = reheadered(&access, header);
        let bad_refresh = reheadered(&refresh, header);

        server
            .me(&bad_access)
            .await
            .assert(401, wrapped("Token is invalid"));
        for token in [&bad_access, &bad_refresh] {
            server
                .post("/api/token/verify/", json!({"token": token}))
                .await
                .assert(401, token_error("Token is invalid"));
        }
        server
            .post("/api/token/refresh/", json!({"refresh": bad_refresh}))
            .await
            .assert(401, token_error("Token is invalid"));
        assert_eq!(
            grpc_call(&server, &bad_access).await,
            (Some("16".into()), Some("Token is invalid".into())),
            "{why}"
        );

        // Refused, and nothing was consumed: the genuine refresh token (same
        // jti) still rotates once, and its access token still works.
        server
            .me(&access)
            .await
            .assert(200, json!({"username": "alice"}));
        let rotated = server
            .post("/api/token/refresh/", json!({"refresh": refresh}))
            .await;
        assert_eq!(rotated.status, 200, "{why}: {}", rotated.text);
        // An attacker who keeps going after the refusal gets the same answer.
        server
            .post("/api/token/refresh/", json!({"refresh": bad_refresh}))
            .await
            .assert(401, token_error("Token is invalid"));
    }
}

#[tokio::test]
async fn accepted_headers_on_every_path() {
    let server = Server::start().await;
    for (why, header) in ACCEPTED {
        let (refresh, access) = server.login(ALICE).await;
        let access = reheadered(&access, header);
        let refresh = reheadered(&refresh, header);
        server
            .me(&access)
            .await
            .assert(200, json!({"username": "alice"}));
        server
            .post("/api/token/verify/", json!({"token": access}))
            .await
            .assert(200, json!({}));
        assert_eq!(
            grpc_call(&server, &access).await,
            (Some("0".into()), None),
            "{why}"
        );
        let rotated = server
            .post("/api/token/refresh/", json!({"refresh": refresh}))
            .await;
        assert_eq!(rotated.status, 200, "{why}: {}", rotated.text);
    }
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
async fn automatic_refresh_takes_neither_token_with_a_refused_header() {
    let server = Server::start_configured(|options| {
        options.auto_refresh = true;
        options.reuse_grace = std::time::Duration::from_secs(10);
    })
    .await;
    for (why, header) in REFUSED {
        let (refresh, access) = server.login(ALICE).await;
        server.advance(ACCESS_LIFETIME);

        // The expired access token under a refused header: invalid, not expired.
        let answer = me_with_pair(&server, &reheadered(&access, header), &refresh).await;
        answer.assert(401, wrapped("Token is invalid"));
        assert!(answer.headers.get("x-access-token").is_none(), "{why}");

        // A sound expired access token with a refresh token under a refused header.
        let answer = me_with_pair(&server, &access, &reheadered(&refresh, header)).await;
        answer.assert(401, wrapped("Token is expired"));
        assert!(answer.headers.get("x-access-token").is_none(), "{why}");

        // Nothing was consumed: the genuine pair is refreshed on the fly.
        let answer = me_with_pair(&server, &access, &refresh).await;
        answer.assert(200, json!({"username": "alice"}));
        assert!(answer.headers.get("x-access-token").is_some(), "{why}");
    }
}

#[tokio::test]
async fn a_jwe_shaped_token_is_refused_everywhere() {
    let server = Server::start().await;
    let jwe = format!(
        "{}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256GCM"}"#),
        URL_SAFE_NO_PAD.encode([0u8; 12]),
        URL_SAFE_NO_PAD.encode(b"ciphertext"),
        URL_SAFE_NO_PAD.encode([0u8; 16]),
    );
    server
        .post("/api/token/verify/", json!({"token": jwe}))
        .await
        .assert(401, token_error("Token is invalid"));
    server
        .post("/api/token/refresh/", json!({"refresh": jwe}))
        .await
        .assert(401, token_error("Token is invalid"));
    server
        .me(&jwe)
        .await
        .assert(401, wrapped("Token is invalid"));
    assert_eq!(
        grpc_call(&server, &jwe).await,
        (Some("16".into()), Some("Token is invalid".into()))
    );
}

/// `AuthLayer` with the keys of a remote issuer (verify-only, fetched from its JWKS).
#[cfg(feature = "remote-jwks")]
mod remote_keys {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::routing::get;
    use axum::{Json, Router};
    use tower_simplejwt::clock::ManualClock;
    use tower_simplejwt::config::JwtConfig;
    use tower_simplejwt::credentials::{
        MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
    };
    use tower_simplejwt::keys::{Key, KeySet};
    use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};
    use tower_simplejwt::{Algorithm, Jwt};

    use super::*;

    const ISSUER: &str = "http://issuer.test";
    const AUDIENCE: &str = "this-api";

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// A `Jwt` trusting an issuer that publishes one ES256 key under kid `a`.
    async fn trusting_jwt(clock: &ManualClock) -> Jwt {
        let key = Key::from_pem(Algorithm::ES256, Some(&fixture("ec256_private.pem")), None)
            .unwrap()
            .with_kid("a");
        let jwks = KeySet::new(key, []).unwrap().jwks();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let app = Router::new().route("/jwks.json", get(move || async move { Json(jwks) }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let config = JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false);
        let remote = RemoteIssuers::start(
            &config,
            vec![RemoteIssuer::new(ISSUER, &url).with_audience(AUDIENCE)],
            RemoteSettings {
                refresh_interval: Duration::from_secs(3600),
                // The local issuer serves plain HTTP on loopback.
                danger_allow_plain_http_for_tests: true,
                ..RemoteSettings::default()
            },
            Arc::new(clock.clone()),
        )
        .await
        .expect("the issuer's keys are fetched");
        let users = MemoryUserStore::new();
        users.create("alice", "unused", true).await.unwrap();
        Jwt::builder(config)
            .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
            .remote_issuers(remote)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
    }

    /// An access token of the issuer, under `header` (HS256 named as ES256,
    /// with the issuer's kid unless the header names one).
    fn issuer_token(header: &str) -> String {
        let kid = if header.contains(r#""kid""#) {
            ""
        } else {
            r#","kid":"a""#
        };
        let header = header.replace(r#""alg":"HS256""#, &format!(r#""alg":"ES256"{kid}"#));
        let claims = json!({
            "token_type": "access", "exp": START + 60, "iat": START, "user_id": "1",
            "jti": format!("{:032x}", rand::random::<u128>()), "iss": ISSUER,
            "aud": AUDIENCE,
        });
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key = jsonwebtoken::EncodingKey::from_ec_pem(fixture("ec256_private.pem").as_bytes())
            .unwrap();
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::ES256)
                .unwrap();
        format!("{message}.{signature}")
    }

    async fn call(jwt: &Jwt, token: &str, grpc: bool) -> (u16, Value, Option<String>) {
        let service =
            AuthLayer::new(jwt.clone()).layer(service_fn(|_request: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}"))))
            }));
        let mut request =
            Request::get("/api/me/").header("authorization", format!("Bearer {token}"));
        if grpc {
            request = request.header("content-type", "application/grpc");
        }
        let response = service
            .oneshot(request.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let grpc_status = response
            .headers()
            .get("grpc-status")
            .map(|value| value.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap()
        };
        (status, body, grpc_status)
    }

    #[tokio::test]
    async fn header_rules_hold_for_remote_issuers_keys() {
        let clock = ManualClock::new(START);
        let jwt = trusting_jwt(&clock).await;
        for (why, header) in ACCEPTED {
            let token = issuer_token(header);
            assert_eq!(
                call(&jwt, &token, false).await,
                (200, json!({}), None),
                "{why}"
            );
        }
        for (why, header) in REFUSED {
            let token = issuer_token(header);
            for _ in 0..2 {
                assert_eq!(
                    call(&jwt, &token, false).await,
                    (401, wrapped("Token is invalid"), None),
                    "{why}: {header}"
                );
                assert_eq!(
                    call(&jwt, &token, true).await,
                    (200, Value::Null, Some("16".into())),
                    "{why}: gRPC"
                );
            }
        }
    }
}
