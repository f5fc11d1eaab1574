//! Hostile tokens and bodies, each answered with the contract's 401 (or 413),
//! never a panic or a 500: over real HTTP against the example server, and
//! against an RS256 configuration for key confusion.

mod support;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use http::Method;
use serde_json::{json, Value};
use support::*;

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign_message(message: &str, secret: &[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap()
}

/// Sends `token` to the refresh and verify endpoints and the protected route:
/// each must refuse it as invalid.
async fn refused_everywhere(server: &Server, token: &str, why: &str) {
    server
        .post("/api/token/verify/", json!({"token": token}))
        .await
        .assert(401, token_error("Token is invalid"));
    server
        .post("/api/token/refresh/", json!({"refresh": token}))
        .await
        .assert(401, token_error("Token is invalid"));
    let me = server.me(token).await;
    assert!(me.status == 401, "{why}: {}", me.text);
    assert!(
        me.text.contains("Token is invalid") || me.text.contains("two space-delimited"),
        "{why}: {}",
        me.text
    );
}

#[tokio::test]
async fn alg_none_in_every_case() {
    let server = Server::start().await;
    let payload = b64(claims("refresh", json!("1"), START).to_string());
    for alg in ["none", "None", "NONE", "nOnE", "NoNe"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        let unsigned = format!("{header}.{payload}.");
        refused_everywhere(&server, &unsigned, alg).await;
        // Signed anyway with the right secret: still not our algorithm.
        let message = format!("{header}.{payload}");
        let signed = format!("{message}.{}", sign_message(&message, SECRET.as_bytes()));
        refused_everywhere(&server, &signed, alg).await;
    }
}

#[tokio::test]
async fn headers_that_must_not_choose_the_key() {
    let server = Server::start().await;
    let payload = b64(claims("refresh", json!("1"), START).to_string());
    for header in [
        r#"{"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"}"#,
        r#"{"alg":"HS256","typ":"JWT","jku":"http://attacker.example/jwks.json"}"#,
        r#"{"alg":"HS256","typ":"JWT","x5u":"http://attacker.example/cert.pem"}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
        r#"{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"YXR0YWNrZXI"}}"#,
    ] {
        let message = format!("{}.{payload}", b64(header));
        // Signed with the attacker's key, which such headers would name: refused.
        let forged = format!("{message}.{}", sign_message(&message, b"attacker"));
        refused_everywhere(&server, &forged, header).await;
        // Signed with the server's key: a kid naming no key of ours changes
        // nothing; a header that brings or points to a key, or a `crit`,
        // refuses the token (tests/jose_headers.rs has every parameter).
        let genuine = format!("{message}.{}", sign_message(&message, SECRET.as_bytes()));
        if header.contains("\"kid\"") {
            server
                .post("/api/token/verify/", json!({"token": genuine}))
                .await
                .assert(200, json!({}));
        } else {
            refused_everywhere(&server, &genuine, header).await;
        }
    }
}

#[tokio::test]
async fn oversized_tokens() {
    let server = Server::start().await;
    let padded = forge(
        HS256,
        &json!({"token_type": "access", "exp": START + 60, "jti": "a", "pad": "x".repeat(8 * 1024)}),
        SECRET,
    );
    assert!(padded.len() > 8 * 1024);
    server
        .post("/api/token/verify/", json!({"token": padded}))
        .await
        .assert(401, token_error("Token is invalid"));
    server
        .me(&padded)
        .await
        .assert(401, wrapped("Token is invalid"));
    let huge = "a".repeat(1 << 20);
    server
        .post("/api/token/verify/", json!({"token": huge}))
        .await
        .assert(413, json!({"detail": "Request body too large."}));
}

#[tokio::test]
async fn hostile_claims() {
    let server = Server::start().await;
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let exp = START + 60;
    let nested = format!(
        r#"{{"token_type":"refresh","exp":{exp},"jti":"a","user_id":"1","deep":{}0{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let duplicate =
        format!(r#"{{"token_type":"refresh","exp":{exp},"jti":"a","user_id":"1","user_id":"2"}}"#);
    let duplicate_exp =
        format!(r#"{{"token_type":"refresh","exp":{exp},"exp":1,"jti":"a","user_id":"1"}}"#);
    for (label, payload) in [
        ("nested", nested),
        ("duplicate user_id", duplicate),
        ("duplicate exp", duplicate_exp),
    ] {
        let message = format!("{}.{}", b64(header), b64(&payload));
        let token = format!("{message}.{}", sign_message(&message, SECRET.as_bytes()));
        refused_everywhere(&server, &token, label).await;
    }
    for exp in [
        json!(-1),
        json!(-0.5),
        json!(1e300),
        json!("9999999999"),
        json!(null),
        json!([1]),
    ] {
        let token = forge(
            HS256,
            &json!({"token_type": "refresh", "exp": exp, "jti": "a", "user_id": "1"}),
            SECRET,
        );
        refused_everywhere(&server, &token, &format!("exp {exp}")).await;
    }
    let beyond_u64 =
        r#"{"token_type":"refresh","exp":18446744073709551616,"jti":"a","user_id":"1"}"#.to_owned();
    let message = format!("{}.{}", b64(header), b64(&beyond_u64));
    refused_everywhere(
        &server,
        &format!("{message}.{}", sign_message(&message, SECRET.as_bytes())),
        "exp 2^64",
    )
    .await;
    // Beyond i64 but below 2^64 is a date jsonwebtoken reads: far future, accepted.
    let beyond_i64 = forge(
        HS256,
        &json!({"token_type": "access", "exp": u64::MAX, "jti": "a", "user_id": "1"}),
        SECRET,
    );
    server
        .post("/api/token/verify/", json!({"token": beyond_i64}))
        .await
        .assert(200, json!({}));
    let float_exp = forge(
        HS256,
        &json!({"token_type": "access", "exp": (START + 60) as f64 + 0.25, "jti": "a", "user_id": "1"}),
        SECRET,
    );
    server
        .post("/api/token/verify/", json!({"token": float_exp}))
        .await
        .assert(200, json!({}));
}

#[tokio::test]
async fn encodings_and_shapes() {
    let server = Server::start().await;
    let good = forge(HS256, &claims("refresh", json!("1"), START), SECRET);
    let (message, signature) = good.rsplit_once('.').unwrap();
    let (header, payload) = message.split_once('.').unwrap();
    let payload_bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
    let resigned = |header: &str, payload: &str| {
        let message = format!("{header}.{payload}");
        format!("{message}.{}", sign_message(&message, SECRET.as_bytes()))
    };
    let mut padded_payload = payload_bytes.clone();
    while !URL_SAFE.encode(&padded_payload).ends_with('=') {
        padded_payload.push(b' ');
    }
    let non_utf8 = [
        br#"{"token_type":"refresh","jti":"a","exp":9999999999,"x":""#.as_slice(),
        b"\xc3\x28",
        br#""}"#,
    ]
    .concat();
    let cases: Vec<(&str, String)> = vec![
        (
            "padded payload",
            resigned(header, &URL_SAFE.encode(&padded_payload)),
        ),
        (
            "standard alphabet",
            resigned(header, &STANDARD.encode(&payload_bytes).replace('=', "")),
        ),
        ("padded signature", format!("{message}.{signature}=")),
        ("non-UTF-8 payload", resigned(header, &b64(non_utf8))),
        (
            "UTF-16 payload",
            resigned(
                header,
                &b64(String::from_utf8(payload_bytes.clone())
                    .unwrap()
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<u8>>()),
            ),
        ),
        (
            "BOM",
            resigned(
                header,
                &b64([b"\xef\xbb\xbf".as_slice(), &payload_bytes].concat()),
            ),
        ),
        ("trailing data after the signature", format!("{good}.extra")),
        ("trailing bytes on the signature", format!("{good}AA")),
        ("empty header", format!(".{payload}.{signature}")),
        ("empty payload", format!("{header}..{signature}")),
        ("empty signature", format!("{message}.")),
        ("two parts", message.to_owned()),
        ("four dots", format!("{good}...")),
    ];
    for (label, token) in cases {
        if label == "standard alphabet" && !STANDARD.encode(&payload_bytes).contains(['+', '/']) {
            continue;
        }
        refused_everywhere(&server, &token, label).await;
    }
    // Tokens are trimmed like every string field, so a trailing newline is fine.
    server
        .post("/api/token/verify/", json!({"token": format!("{good}\n")}))
        .await
        .assert(200, json!({}));
}

#[tokio::test]
async fn binary_authorization_headers_and_bodies() {
    let server = Server::start().await;
    for header in [
        "Bearer \u{e9}\u{fffd}",
        "Bearer\tabc",
        "Bearer ey.ey.ey",
        "Bearer \u{feff}",
    ] {
        let answer = server.get_with("/api/me/", header).await;
        assert_eq!(answer.status, 401, "{header:?}: {}", answer.text);
    }
    for body in [
        &b"\xff\xfe{}"[..],
        b"{\"refresh\": \"\xff\"}",
        b"\x00\x00\x00",
    ] {
        let answer = server
            .request(
                Method::POST,
                "/api/token/refresh/",
                &[("content-type", "application/json")],
                body.to_vec(),
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.text);
        assert!(
            answer.body["detail"]
                .as_str()
                .unwrap_or_default()
                .starts_with("JSON parse error - "),
            "{}",
            answer.text
        );
    }
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_refused_by_an_rs256_server() {
    use std::convert::Infallible;
    use tower::{Layer, ServiceExt};
    use tower_simplejwt::config::JwtConfig;
    use tower_simplejwt::credentials::{
        MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
    };
    use tower_simplejwt::http::TokenEndpointsLayer;
    use tower_simplejwt::Jwt;

    let fixture = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let public_pem = fixture("rsa_public.pem");
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let jwt = Jwt::builder(
        JwtConfig::simplejwt_guide("unused")
            .with_migration_mode(false)
            .with_key_pair(
                jsonwebtoken::Algorithm::RS256,
                fixture("rsa_private.pem"),
                public_pem.clone(),
            ),
    )
    .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
    .build()
    .unwrap();
    let service = TokenEndpointsLayer::new(jwt.clone()).layer(tower::service_fn(
        |_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
            Ok::<_, Infallible>(http::Response::new(
                http_body_util::Full::<bytes::Bytes>::default(),
            ))
        },
    ));
    let verify = |token: String| {
        let service = service.clone();
        async move {
            let request = http::Request::post("/api/token/verify/")
                .header("content-type", "application/json")
                .body(http_body_util::Full::from(
                    json!({"token": token}).to_string(),
                ))
                .unwrap();
            let response = service.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };
    let genuine = jwt
        .codec()
        .mint_pair("1", &serde_json::Map::new())
        .unwrap()
        .access
        .token;
    assert_eq!(verify(genuine).await, (200, json!({})));
    let payload = b64(claims(
        "access",
        json!("1"),
        tower_simplejwt::clock::Clock::now(&tower_simplejwt::clock::SystemClock),
    )
    .to_string());
    for header in [
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
    ] {
        let message = format!("{}.{payload}", b64(header));
        let confused = format!(
            "{message}.{}",
            sign_message(&message, public_pem.as_bytes())
        );
        assert_eq!(
            verify(confused).await,
            (401, token_error("Token is invalid")),
            "{header}"
        );
    }
}
