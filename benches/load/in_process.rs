//! The servers of the default run: axum routes built here, in this
//! process, with users in memory. The verifiers are compared with the
//! handler they protect, given its subject by an `Extension` layer and
//! nothing verified (as the example server's unprotected twin is); that
//! route is compared with a handler answering a constant.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::AuthLayer;
use tower_simplejwt::Jwt;

use crate::rounds::Target;

const SECRET: &str = "load-test-secret-of-a-sensible-length";

#[derive(Deserialize)]
#[allow(dead_code)]
struct ContractClaims {
    token_type: String,
    exp: u64,
    iat: u64,
    jti: String,
    user_id: String,
}

struct Plain {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
    authenticator: Arc<dyn Authenticator>,
}

async fn open() -> Json<Value> {
    Json(json!({"username": "alice"}))
}

async fn protected(Extension(subject): Extension<Subject>) -> Json<Value> {
    Json(json!({"username": subject.username}))
}

/// What a handler written with plain jsonwebtoken does: verify, look the user up.
async fn plain_jsonwebtoken(
    State(plain): State<Arc<Plain>>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let data = jsonwebtoken::decode::<ContractClaims>(token, &plain.key, &plain.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?;
    let subject = plain
        .authenticator
        .subject(&data.claims.user_id)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    Ok(Json(json!({"username": subject.username})))
}

/// An access token for alice (user 1).
fn access_token(jwt: &Jwt) -> String {
    jwt.codec()
        .mint_pair("1", &serde_json::Map::new())
        .unwrap()
        .access
        .token
}

/// The servers, one per variant, on one worker thread, with the tokens to
/// send; they serve as long as the returned runtime lives.
pub fn targets() -> (tokio::runtime::Runtime, Vec<Target>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (ports, tokens) = runtime.block_on(async {
        let users = MemoryUserStore::new();
        users.create("alice", "unused", true).await.unwrap();
        let authenticator: Arc<dyn Authenticator> =
            Arc::new(PasswordAuthenticator::new(users, PasswordHasher::default()));
        let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
            .shared_authenticator(authenticator.clone())
            .build()
            .unwrap();
        let token = access_token(&jwt);
        let mut uncached_config = JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false);
        uncached_config.verified_token_cache_capacity = 0;
        let uncached = Jwt::builder(uncached_config)
            .shared_authenticator(authenticator.clone())
            .build()
            .unwrap();
        let plain = Arc::new(Plain {
            key: jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            validation: jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
            authenticator,
        });
        #[allow(unused_mut)]
        let mut routers = vec![
            Router::new().route("/api/me/", get(open)),
            // The handler behind AuthLayer, given its subject with nothing verified.
            Router::new()
                .route("/api/me/", get(protected))
                .layer(Extension(Subject::new("1", "alice", true))),
            Router::new()
                .route("/api/me/", get(protected))
                .layer(AuthLayer::new(jwt)),
            Router::new()
                .route("/api/me/", get(protected))
                .layer(AuthLayer::new(uncached)),
            Router::new()
                .route("/api/me/", get(plain_jsonwebtoken))
                .with_state(plain),
        ];
        #[allow(unused_mut)]
        let mut tokens = vec![token.clone(); routers.len()];
        #[cfg(feature = "remote-jwks")]
        {
            let (local, local_token, remote, remote_token) = remote_variants().await;
            routers.push(local);
            tokens.push(local_token);
            routers.push(remote);
            tokens.push(remote_token);
        }
        let mut ports = Vec::new();
        for router in routers {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ports.push(listener.local_addr().unwrap().port());
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        }
        (ports, tokens)
    });
    let names = [
        "constant answer, no subject",
        "same handler, unverified subject",
        "AuthLayer",
        "AuthLayer, verified-token cache off",
        "plain jsonwebtoken in the handler",
        "AuthLayer, local ES256 key",
        "AuthLayer, remote issuer's ES256 key",
    ];
    let targets = ports
        .into_iter()
        .zip(tokens)
        .enumerate()
        .map(|(index, (port, token))| Target {
            name: names[index].to_owned(),
            url: format!("http://127.0.0.1:{port}/api/me/"),
            token,
            pid: std::process::id(),
            // The same handler unprotected is every verifier's baseline; the
            // remote issuer's key is compared with the local ES256 key.
            baseline: match index {
                0 | 1 => 0,
                6 => 5,
                _ => 1,
            },
        })
        .collect();
    (runtime, targets)
}

/// The same route verifying ES256 tokens with a local key, and with a remote
/// issuer's key fetched from its JWKS (served here on another port).
#[cfg(feature = "remote-jwks")]
async fn remote_variants() -> (Router, String, Router, String) {
    use tower_simplejwt::clock::SystemClock;
    use tower_simplejwt::keys::{Key, KeySet};
    use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};

    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keys/ec256_private.pem"
    ))
    .unwrap();
    let key = Key::from_pem(jsonwebtoken::Algorithm::ES256, Some(&pem), None).unwrap();
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let authenticator: Arc<dyn Authenticator> =
        Arc::new(PasswordAuthenticator::new(users, PasswordHasher::default()));

    let issuer = "http://issuer.bench";
    let audience = "bench-api";
    let local_config = JwtConfig::simplejwt_guide(SECRET)
        .with_migration_mode(false)
        .with_issuer(issuer)
        .with_audience(audience);
    let local = Jwt::builder(local_config.clone())
        .shared_authenticator(authenticator.clone())
        .build()
        .unwrap();
    local
        .codec()
        .set_key_set(KeySet::new(key.clone(), []).unwrap());
    let token = access_token(&local);

    let jwks = serde_json::to_value(local.codec().key_set().jwks()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let published = Router::new().route("/jwks.json", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, published).await.unwrap() });
    let config = JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false);
    // The remote subject "1" is linked to the local alice, so the handler
    // does the same work on both routes.
    let linked = RemoteIssuer::new(issuer, url)
        .with_audience(audience)
        .with_subject_mapping(|remote: &Subject, _: &tower_simplejwt::token::Claims| {
            (remote.id == "1").then(|| Subject::new("1", "alice", true))
        });
    let remote = RemoteIssuers::start(
        &config,
        vec![linked],
        RemoteSettings {
            danger_allow_plain_http_for_tests: true,
            ..RemoteSettings::default()
        },
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let verifier = Jwt::builder(config)
        .shared_authenticator(authenticator)
        .remote_issuers(remote)
        .build()
        .unwrap();

    let local_router = Router::new()
        .route("/api/me/", get(protected))
        .layer(AuthLayer::new(local));
    let remote_router = Router::new()
        .route("/api/me/", get(protected))
        .layer(AuthLayer::new(verifier));
    (local_router, token.clone(), remote_router, token)
}
