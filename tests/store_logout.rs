//! A logout racing another tab's rotation: tab A rotates, tab B logs out
//! with the token A has just rotated. The logout answers 401 "Token is
//! blacklisted" (as the reference does for a token already blacklisted) and
//! revokes the family, so tab A's successor is refused from then on, with
//! or without a grace window, on every backend compiled in.

use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::{Layer, ServiceExt};
use tower_simplejwt::clock::{Clock, ManualClock, SharedClock, SystemClock};
use tower_simplejwt::config::{JwtConfig, ReusePolicy};
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::http::BlacklistLayer;
use tower_simplejwt::http::RefreshLayer;
use tower_simplejwt::store::{MemoryTokenStore, RecordedToken, TokenStore};
use tower_simplejwt::Jwt;

/// The service behind the endpoint layers: never reached by their paths.
fn not_found() -> impl tower::Service<
    http::Request<Full<Bytes>>,
    Response = http::Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|_: http::Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(http::Response::new(Full::<Bytes>::default()))
    })
}

/// Posts `{"refresh": token}` to `path` of `service`; the status and the JSON body.
async fn post<S, B>(service: S, path: &str, token: &str) -> (u16, Value)
where
    S: tower::Service<http::Request<Full<Bytes>>, Response = http::Response<B>>,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(Full::from(format!(r#"{{"refresh":"{token}"}}"#)))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn logout_beats_the_other_tab(name: &str, store: Arc<dyn TokenStore>, grace: u64) {
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let clock = ManualClock::new(SystemClock.now());
    let shared: SharedClock = Arc::new(clock.clone());
    let jwt = Jwt::builder(
        JwtConfig::simplejwt_guide("the logout test secret, of 32 bytes or more")
            .with_reuse(Duration::from_secs(grace), ReusePolicy::RevokeFamily),
    )
    .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
    .shared_token_store(store.clone())
    .clock(shared)
    .build()
    .unwrap();
    let pair = jwt.codec().mint_pair("1", &serde_json::Map::new()).unwrap();
    let first = pair.refresh.token;
    store
        .record(RecordedToken::new(
            &pair.refresh.claims.jti,
            "1",
            pair.refresh.claims.exp,
        ))
        .await
        .unwrap();
    let context = format!("{name} with a window of {grace} s");

    let (status, body) = post(
        RefreshLayer::new(jwt.clone()).layer(not_found()),
        "/api/token/refresh/",
        &first,
    )
    .await;
    assert_eq!(status, 200, "{context}: tab A rotates: {body}");
    let second = body["refresh"].as_str().unwrap().to_owned();

    let (status, body) = post(
        BlacklistLayer::new(jwt.clone()).layer(not_found()),
        "/api/token/blacklist/",
        &first,
    )
    .await;
    assert_eq!(
        status, 401,
        "{context}: tab B logs out with the rotated token: {body}"
    );
    assert_eq!(body["detail"], "Token is blacklisted", "{context}");

    let (status, body) = post(
        RefreshLayer::new(jwt.clone()).layer(not_found()),
        "/api/token/refresh/",
        &second,
    )
    .await;
    assert_eq!(
        status, 401,
        "{context}: tab A's successor is refused: {body}"
    );
    assert_eq!(body["detail"], "Token is blacklisted", "{context}");
    let (status, body) = post(
        RefreshLayer::new(jwt.clone()).layer(not_found()),
        "/api/token/refresh/",
        &first,
    )
    .await;
    assert_eq!(
        status, 401,
        "{context}: no replay brings the session back: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    for grace in [0, 30] {
        logout_beats_the_other_tab("memory", Arc::new(MemoryTokenStore::new()), grace).await;
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    use tower_simplejwt::store::sqlite::SqliteTokenStore;
    for grace in [0, 30] {
        let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
        logout_beats_the_other_tab("sqlite", Arc::new(store), grace).await;
    }
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    use tower_simplejwt::store::postgres::PostgresTokenStore;
    let store = PostgresTokenStore::connect("postgres://postgres@127.0.0.1:5432/test")
        .await
        .expect("PostgreSQL must be running on 127.0.0.1:5432");
    for grace in [0, 30] {
        logout_beats_the_other_tab("postgres", Arc::new(store.clone()), grace).await;
    }
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    use tower_simplejwt::store::redis::RedisTokenStore;
    let store =
        RedisTokenStore::connect_with_namespace("redis://127.0.0.1:6379/", "simplejwt-logout")
            .await
            .expect("Redis must be running on 127.0.0.1:6379");
    for grace in [0, 30] {
        logout_beats_the_other_tab("redis", Arc::new(store.clone()), grace).await;
    }
}
