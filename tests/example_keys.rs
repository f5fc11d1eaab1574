//! Asymmetric keys through the example server: round trips per algorithm,
//! each token carrying its key's kid, and the published JWKS and discovery.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::Method;
use serde_json::{json, Value};
use support::*;
use tower_simplejwt::Algorithm;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn round_trips_per_algorithm_with_a_kid() {
    for (algorithm, key) in [
        (Algorithm::RS256, "rsa"),
        (Algorithm::PS256, "rsa"),
        (Algorithm::ES256, "ec256"),
        (Algorithm::ES384, "ec384"),
        (Algorithm::EdDSA, "ed25519"),
    ] {
        let server = Server::start_configured(|options| {
            options.keys = app::KeyOptions {
                algorithm: Some(algorithm),
                signing_key_pem: Some(fixture(&format!("{key}_private.pem"))),
                verifying_key_pems: Vec::new(),
                issuer: Some("https://auth.example".into()),
            };
        })
        .await;
        let (refresh, access) = server.login(ALICE).await;
        let header = header_of(&access);
        assert_eq!(header["alg"], format!("{algorithm:?}"));
        let kid = header["kid"]
            .as_str()
            .expect("asymmetric tokens carry a kid")
            .to_owned();
        assert_eq!(claims_of(&access)["iss"], "https://auth.example");
        server
            .me(&access)
            .await
            .assert(200, json!({"username": "alice"}));
        let refreshed = server
            .post("/api/token/refresh/", json!({"refresh": refresh}))
            .await;
        assert_eq!(refreshed.status, 200, "{algorithm:?}: {}", refreshed.text);

        let jwks = server
            .request(Method::GET, "/.well-known/jwks.json", &[], "")
            .await;
        assert_eq!(jwks.status, 200);
        assert_eq!(jwks.headers["cache-control"], "public, max-age=300");
        let keys = jwks.body["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{algorithm:?}");
        assert_eq!(keys[0]["kid"], kid);
        assert_eq!(keys[0]["alg"], format!("{algorithm:?}"));
        assert_eq!(keys[0]["use"], "sig");
        assert!(keys[0].get("d").is_none(), "no private part is published");

        let discovery = server
            .request(Method::GET, "/.well-known/openid-configuration", &[], "")
            .await;
        assert_eq!(discovery.status, 200);
        assert_eq!(discovery.body["issuer"], "https://auth.example");
        assert_eq!(
            discovery.body["jwks_uri"],
            "https://auth.example/.well-known/jwks.json"
        );
    }
}

#[tokio::test]
async fn an_hmac_server_publishes_no_secret() {
    let server = Server::start().await;
    let jwks = server
        .request(Method::GET, "/.well-known/jwks.json", &[], "")
        .await;
    jwks.assert(200, json!({"keys": []}));
    // Without an issuer there is no discovery document.
    assert_eq!(
        server
            .request(Method::GET, "/.well-known/openid-configuration", &[], "")
            .await
            .status,
        404
    );
}
