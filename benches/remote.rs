//! One request through `AuthLayer` with a remote issuer's ES256 token
//! against the same with a local ES256 token, in the same run.
//!
//! `cargo bench --bench remote --features remote-jwks`. Each token has been
//! verified once, so every variant is a verified-token cache hit: what
//! differs is how the subject is found. The local token's user is looked
//! up in memory; the remote token's subject is the issuer's (no lookup), or
//! comes from a subject mapping (a closure, through a boxed future).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body_util::Full;
use tower::{Layer, Service, ServiceExt};
use tower_simplejwt::clock::SystemClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::keys::{Key, KeySet};
use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};
use tower_simplejwt::token::Claims;
use tower_simplejwt::AuthLayer;
use tower_simplejwt::Jwt;

const SECRET: &str = "benchmark-secret-of-a-sensible-length";
const ISSUER: &str = "http://issuer.bench";
const AUDIENCE: &str = "bench-api";

type Body = Full<bytes::Bytes>;

async fn empty(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Body::default()))
}

/// The local ES256 verifier with its token, and the remote verifiers
/// (without and with a subject mapping) with the issuer's token.
async fn verifiers() -> (Jwt, Jwt, Jwt, String) {
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

    let local_config = JwtConfig::simplejwt_guide(SECRET)
        .with_migration_mode(false)
        .with_issuer(ISSUER)
        .with_audience(AUDIENCE);
    let local = Jwt::builder(local_config)
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
    let settings = RemoteSettings {
        danger_allow_plain_http_for_tests: true,
        ..RemoteSettings::default()
    };
    let remote_verifier = |mapped: bool| {
        let (url, settings, authenticator) = (url.clone(), settings.clone(), authenticator.clone());
        async move {
            let mut issuer = RemoteIssuer::new(ISSUER, url).with_audience(AUDIENCE);
            if mapped {
                issuer = issuer.with_subject_mapping(|remote: &Subject, _: &Claims| {
                    (remote.id == "1").then(|| Subject::new("1", "alice", true))
                });
            }
            let config = JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false);
            let remote =
                RemoteIssuers::start(&config, vec![issuer], settings, Arc::new(SystemClock))
                    .await
                    .unwrap();
            Jwt::builder(config)
                .shared_authenticator(authenticator)
                .remote_issuers(remote)
                .build()
                .unwrap()
        }
    };
    let unmapped = remote_verifier(false).await;
    let mapped = remote_verifier(true).await;
    (local, unmapped, mapped, token)
}

fn remote_auth_layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (local, unmapped, mapped, token) = runtime.block_on(verifiers());
    let request = || {
        Request::get("/api/me/")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::default())
            .unwrap()
    };
    let mut group = c.benchmark_group("one request through AuthLayer, ES256");
    for (name, jwt) in [
        ("local key, user in memory", &local),
        ("remote issuer's key, remote subject", &unmapped),
        ("remote issuer's key, subject mapping", &mapped),
    ] {
        let mut service = AuthLayer::new(jwt.clone()).layer(tower::service_fn(empty));
        let mut call = || {
            runtime.block_on(async {
                let ready = service.ready().await.unwrap();
                ready.call(request()).await.unwrap().status().as_u16()
            })
        };
        assert_eq!(call(), 200, "{name}");
        group.bench_function(name, |bencher| bencher.iter(&mut call));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = remote_auth_layer
}
criterion_main!(benches);
