//! The restart scenario of issue #20: log in, log out through the blacklist
//! endpoint, restart the app, refresh with the logged-out token. With the
//! library's defaults the token stays refused, whether the new process
//! starts over a fresh memory store or reopens a durable SQLite file; and
//! migration mode over a store that forgets refuses to build.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::http::TokenEndpointsLayer;
use tower_simplejwt::lifecycle::BuildError;
use tower_simplejwt::store::{MemoryTokenStore, TokenStore};
use tower_simplejwt::Jwt;

const SECRET: &str = "the restart test secret, of 32 bytes or more";
const NOW: u64 = 1_700_000_000;

/// One process of the app: its users (created afresh, as a seed would) and its token store.
async fn process(config: JwtConfig, store: Arc<dyn TokenStore>) -> Jwt {
    let hasher = PasswordHasher::argon2id(8, 1, 1).unwrap();
    let users = MemoryUserStore::new();
    users
        .create("alice", &hasher.hash("wonderland-42").unwrap(), true)
        .await
        .unwrap();
    Jwt::builder(config)
        .shared_token_store(store)
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .clock(Arc::new(ManualClock::new(NOW)))
        .build()
        .unwrap()
}

/// A POST to the process's token endpoints.
async fn post(jwt: &Jwt, path: &str, body: Value) -> (StatusCode, Value) {
    let app = ServiceBuilder::new()
        .layer(TokenEndpointsLayer::new(jwt.clone()))
        .service(service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
        }));
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(Full::from(body.to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// Logs in and out with the first process; returns the logged-out refresh token.
async fn log_in_and_out(first: &Jwt) -> String {
    let (status, pair) = post(
        first,
        "/api/token/",
        json!({"username": "alice", "password": "wonderland-42"}),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    let refresh = pair["refresh"].as_str().unwrap().to_owned();
    let (status, body) = post(first, "/api/token/blacklist/", json!({"refresh": refresh})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    refresh
}

fn blacklisted() -> (StatusCode, Value) {
    (
        StatusCode::UNAUTHORIZED,
        json!({"detail": "Token is blacklisted", "code": "token_not_valid"}),
    )
}

#[tokio::test]
async fn a_logged_out_token_stays_refused_after_a_restart_over_a_fresh_memory_store() {
    let first = process(JwtConfig::new(SECRET), Arc::new(MemoryTokenStore::new())).await;
    let logged_out = log_in_and_out(&first).await;
    assert_eq!(
        post(
            &first,
            "/api/token/refresh/",
            json!({"refresh": logged_out})
        )
        .await,
        blacklisted()
    );
    drop(first);

    // The restart: a new process, a new memory store that remembers nothing.
    let second = process(JwtConfig::new(SECRET), Arc::new(MemoryTokenStore::new())).await;
    assert_eq!(
        post(
            &second,
            "/api/token/refresh/",
            json!({"refresh": logged_out})
        )
        .await,
        blacklisted(),
        "an unrecorded refresh token is refused by default"
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_logged_out_token_stays_refused_after_a_restart_over_a_sqlite_file() {
    use tower_simplejwt::store::sqlite::SqliteTokenStore;

    let dir = std::env::temp_dir().join(format!(
        "tower-simplejwt-restart-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
    // The guide's preset: migration mode on, over a durable store.
    let config = JwtConfig::simplejwt_guide(SECRET);
    let store = SqliteTokenStore::connect(&url).await.unwrap();
    assert!(store.is_durable());
    let first = process(config.clone(), Arc::new(store.clone())).await;
    let logged_out = log_in_and_out(&first).await;
    drop(first);
    store.pool().close().await;
    drop(store);

    let reopened = SqliteTokenStore::connect(&url).await.unwrap();
    let second = process(config.clone(), Arc::new(reopened.clone())).await;
    assert_eq!(
        post(
            &second,
            "/api/token/refresh/",
            json!({"refresh": logged_out})
        )
        .await,
        blacklisted(),
        "the file remembers the logout, migration mode or not"
    );
    let third = process(
        config.with_migration_mode(false),
        Arc::new(reopened.clone()),
    )
    .await;
    assert_eq!(
        post(
            &third,
            "/api/token/refresh/",
            json!({"refresh": logged_out})
        )
        .await,
        blacklisted()
    );
    reopened.pool().close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn migration_mode_over_a_store_that_forgets_refuses_to_build() {
    let authenticator =
        || PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    let refused = Jwt::builder(JwtConfig::simplejwt_guide(SECRET))
        .authenticator(authenticator())
        .build()
        .unwrap_err();
    assert_eq!(refused, BuildError::MigrationModeWithForgetfulStore);
    let message = refused.to_string();
    assert!(
        message.contains("logged-out tokens would come back"),
        "says why: {message}"
    );
    assert!(
        message.contains("durable token store") && message.contains("with_migration_mode(false)"),
        "says how to fix it: {message}"
    );
    let explicit = Jwt::builder(JwtConfig::new(SECRET).with_migration_mode(true))
        .token_store(MemoryTokenStore::new())
        .authenticator(authenticator())
        .build()
        .unwrap_err();
    assert_eq!(explicit, BuildError::MigrationModeWithForgetfulStore);
    assert!(
        Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
            .authenticator(authenticator())
            .build()
            .is_ok()
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn an_in_memory_sqlite_database_is_not_durable() {
    use tower_simplejwt::store::sqlite::SqliteTokenStore;

    for url in ["sqlite::memory:", "sqlite://restart-test?mode=memory"] {
        let store = SqliteTokenStore::connect(url).await.unwrap();
        assert!(!store.is_durable(), "{url}");
        let built = Jwt::builder(JwtConfig::simplejwt_guide(SECRET))
            .token_store(store)
            .authenticator(PasswordAuthenticator::new(
                MemoryUserStore::new(),
                PasswordHasher::default(),
            ))
            .build();
        assert!(
            matches!(built, Err(BuildError::MigrationModeWithForgetfulStore)),
            "{url}"
        );
    }
}
