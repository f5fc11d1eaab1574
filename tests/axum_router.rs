//! The README's axum snippet works as written: `Router::layer(JwtLayer)` serves
//! the endpoints and protects the routes.

use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Json, Router};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::{Jwt, JwtLayer};

/// An HS256 secret: 32 bytes or more.
const SECRET: &str = "a long random secret, 32 bytes or more";

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn jwt_layer_on_a_router() {
    let hasher = PasswordHasher::argon2id(1024, 1, 1).unwrap();
    let users = MemoryUserStore::new();
    users
        .create("alice", &hasher.hash("wonderland-42").unwrap(), true)
        .await
        .unwrap();
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .build()
        .unwrap();
    let app: Router = Router::new()
        .route(
            "/api/me/",
            get(|Extension(user): Extension<Subject>| async move { Json(user.username) }),
        )
        .layer(JwtLayer::new(jwt));

    let login = Request::post("/api/token/")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username": "alice", "password": "wonderland-42"}"#,
        ))
        .unwrap();
    let (status, pair) = call(&app, login).await;
    assert_eq!(status, 200, "{pair}");
    let access = pair["access"].as_str().unwrap();

    let me = Request::get("/api/me/")
        .header("authorization", format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, me).await, (StatusCode::OK, json!("alice")));

    let anonymous = Request::get("/api/me/").body(Body::empty()).unwrap();
    assert_eq!(
        call(&app, anonymous).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
}
