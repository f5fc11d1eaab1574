//! The `axum` feature: extractors and the token router.
#![cfg(feature = "axum")]

use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower::ServiceExt;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::token::Claims;
use tower_simplejwt::AuthLayer;
use tower_simplejwt::Jwt;

/// An HS256 secret: 32 bytes or more.
const SECRET: &str = "an axum test secret, 32 bytes or more";

#[derive(Deserialize)]
struct Role {
    role: String,
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn get_with(path: &str, access: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(access) = access {
        request = request.header("authorization", format!("Bearer {access}"));
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn extractors_and_token_routes() {
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
        .build()
        .unwrap();
    let mut extra = Map::new();
    extra.insert("role".into(), json!("admin"));
    let access = jwt.codec().mint_pair("1", &extra).unwrap().access.token;

    let app: Router = Router::new()
        .route(
            "/typed",
            get(|claims: Claims<Role>, subject: Subject| async move {
                Json(json!({"role": claims.extra.role, "user": subject.username}))
            }),
        )
        .route(
            "/maybe",
            get(
                |claims: Option<Claims>, subject: Option<Subject>| async move {
                    Json(
                        json!({"claims": claims.is_some(), "subject": subject.map(|s| s.username)}),
                    )
                },
            ),
        )
        .route_layer(AuthLayer::optional(jwt.clone()))
        .route(
            "/unprotected",
            get(|claims: Claims| async move { Json(claims.jti) }),
        )
        .merge(tower_simplejwt::axum::token_routes(jwt));

    assert_eq!(
        call(&app, get_with("/typed", Some(&access))).await,
        (StatusCode::OK, json!({"role": "admin", "user": "alice"}))
    );
    assert_eq!(
        call(&app, get_with("/maybe", Some(&access))).await,
        (StatusCode::OK, json!({"claims": true, "subject": "alice"}))
    );
    assert_eq!(
        call(&app, get_with("/maybe", None)).await,
        (StatusCode::OK, json!({"claims": false, "subject": null}))
    );
    let not_provided = json!({"detail": "Authentication credentials were not provided."});
    assert_eq!(
        call(&app, get_with("/typed", None)).await,
        (StatusCode::UNAUTHORIZED, not_provided.clone())
    );
    assert_eq!(
        call(&app, get_with("/unprotected", Some(&access))).await,
        (StatusCode::UNAUTHORIZED, not_provided)
    );

    let verify = Request::post("/api/token/verify/")
        .header("content-type", "application/json")
        .body(Body::from(json!({"token": access}).to_string()))
        .unwrap();
    assert_eq!(call(&app, verify).await, (StatusCode::OK, json!({})));
}

#[derive(Deserialize)]
struct Tenant {
    tenant: u64,
}

/// A handler asking for claims its tokens were never minted with is a bug of
/// the server: 500 `server_error`, never a 401 that logs the user out.
#[tokio::test]
async fn claims_of_another_type_are_a_server_error() {
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
        .build()
        .unwrap();
    let access = jwt
        .codec()
        .mint_pair("1", &Map::new())
        .unwrap()
        .access
        .token;
    let app: Router = Router::new()
        .route(
            "/tenant",
            get(|claims: Claims<Tenant>| async move { Json(claims.extra.tenant) }),
        )
        .route(
            "/maybe-tenant",
            get(|claims: Option<Claims<Tenant>>| async move { Json(claims.is_some()) }),
        )
        .route_layer(AuthLayer::optional(jwt));

    let server_error = json!({"detail": "A server error occurred.", "code": "server_error"});
    for path in ["/tenant", "/maybe-tenant"] {
        assert_eq!(
            call(&app, get_with(path, Some(&access))).await,
            (StatusCode::INTERNAL_SERVER_ERROR, server_error.clone()),
            "{path}"
        );
    }
    // Anonymous: the required extractor is the ordinary 401, the optional one None.
    assert_eq!(
        call(&app, get_with("/tenant", None)).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
    assert_eq!(
        call(&app, get_with("/maybe-tenant", None)).await,
        (StatusCode::OK, json!(false))
    );
}
