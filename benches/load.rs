//! Requests per second of `GET /api/me/` under a real HTTP load generator
//! (wrk, Debian package `wrk`): the same axum handler unprotected, behind
//! `AuthLayer`, and verifying with plain `jsonwebtoken::decode`, in one run.
//!
//! `cargo bench --bench load` (or `-- SECONDS CONNECTIONS ROUNDS`). The
//! servers run in this process on one worker thread; wrk runs beside them
//! with one thread, so both share the machine's two cores the same way for
//! every variant. Rounds interleave the variants to spread out noise.

use std::process::Command;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_simplejwt::auth::AuthLayer;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::Jwt;

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

fn wrk(port: u16, token: &str, seconds: u64, connections: u64) -> f64 {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("http://127.0.0.1:{port}/api/me/"))
        .output()
        .expect("wrk must be installed (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "every answer must be 200:\n{text}"
    );
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"))
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let (seconds, connections, rounds) = (
        args.first().copied().unwrap_or(8),
        args.get(1).copied().unwrap_or(32),
        args.get(2).copied().unwrap_or(3),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (ports, token) = runtime.block_on(async {
        let users = MemoryUserStore::new();
        users.create("alice", "unused", true).await.unwrap();
        let authenticator: Arc<dyn Authenticator> =
            Arc::new(PasswordAuthenticator::new(users, PasswordHasher::default()));
        let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET))
            .shared_authenticator(authenticator.clone())
            .build()
            .unwrap();
        let token = jwt
            .codec()
            .mint_pair("1", &serde_json::Map::new())
            .unwrap()
            .access
            .token;
        let plain = Arc::new(Plain {
            key: jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            validation: jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
            authenticator,
        });
        let routers = [
            Router::new().route("/api/me/", get(open)),
            Router::new()
                .route("/api/me/", get(protected))
                .layer(AuthLayer::new(jwt)),
            Router::new()
                .route("/api/me/", get(plain_jsonwebtoken))
                .with_state(plain),
        ];
        #[allow(unused_mut)]
        let mut routers = routers.to_vec();
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
        "unprotected handler",
        "AuthLayer",
        "plain jsonwebtoken in the handler",
        "AuthLayer, local ES256 key",
        "AuthLayer, remote issuer's ES256 key",
    ];
    let mut totals = vec![0.0f64; ports.len()];
    for round in 1..=rounds {
        for (index, port) in ports.iter().enumerate() {
            let rps = wrk(*port, &token[index], seconds, connections);
            println!("round {round}: {:<38} {rps:>10.0} requests/s", names[index]);
            totals[index] += rps;
        }
    }
    println!("\nmean of {rounds} rounds of {seconds} s, {connections} connections:");
    for (index, total) in totals.iter().enumerate() {
        let mean = total / rounds as f64;
        let versus = match index {
            4 => format!("{:.3}× the local ES256 key", total / totals[3]),
            _ => format!("{:.3}× the unprotected handler", total / totals[0]),
        };
        println!("{:<38} {mean:>10.0} requests/s  {versus}", names[index]);
    }
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
    let local_config = JwtConfig::simplejwt_guide(SECRET).with_issuer(issuer);
    let local = Jwt::builder(local_config.clone())
        .shared_authenticator(authenticator.clone())
        .build()
        .unwrap();
    local
        .codec()
        .set_key_set(KeySet::new(key.clone(), []).unwrap());
    let token = local
        .codec()
        .mint_pair("1", &serde_json::Map::new())
        .unwrap()
        .access
        .token;

    let jwks = serde_json::to_value(local.codec().key_set().jwks()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let published = Router::new().route("/jwks.json", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, published).await.unwrap() });
    let config = JwtConfig::simplejwt_guide(SECRET);
    let remote = RemoteIssuers::start(
        &config,
        vec![RemoteIssuer::new(issuer, url)],
        RemoteSettings::default(),
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
