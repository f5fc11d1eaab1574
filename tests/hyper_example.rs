//! The plain-hyper example over real sockets: token endpoints and a protected route.

#[path = "../examples/hyper/app.rs"]
mod app;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::Jwt;

/// An HS256 secret: 32 bytes or more.
const SECRET: &str = "hyper-test-secret, 32 bytes or more";

#[tokio::test]
async fn token_endpoints_and_a_protected_route_on_plain_hyper() {
    let clock = ManualClock::new(1_800_000_000);
    let hasher = PasswordHasher::argon2id(1024, 1, 1).unwrap();
    let users = MemoryUserStore::new();
    users
        .create("alice", &hasher.hash("wonderland-42").unwrap(), true)
        .await
        .unwrap();
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(app::serve(listener, jwt));
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    let call = |method: Method, path: &str, authorization: Option<String>, body: Option<Value>| {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{base}{path}"));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Full::from(body.map(|b| b.to_string()).unwrap_or_default()))
            .unwrap();
        let client = client.clone();
        async move {
            let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
                .await
                .unwrap()
                .unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };

    let (status, pair) = call(
        Method::POST,
        "/api/token/",
        None,
        Some(json!({"username": "alice", "password": "wonderland-42"})),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    let access = pair["access"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            Method::GET,
            "/api/me/",
            Some(format!("Bearer {access}")),
            None
        )
        .await,
        (200, json!({"username": "alice"}))
    );
    assert_eq!(
        call(Method::GET, "/api/me/", None, None).await,
        (
            401,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
    let (status, refreshed) = call(
        Method::POST,
        "/api/token/refresh/",
        None,
        Some(json!({"refresh": pair["refresh"]})),
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        call(
            Method::POST,
            "/api/token/verify/",
            None,
            Some(json!({"token": access}))
        )
        .await,
        (200, json!({}))
    );
    clock.advance(Duration::from_secs(7200));
    let (status, expired) = call(
        Method::GET,
        "/api/me/",
        Some(format!("Bearer {access}")),
        None,
    )
    .await;
    assert_eq!(
        (status, expired["messages"][0]["message"].clone()),
        (401, json!("Token is expired"))
    );
    server.abort();
}
