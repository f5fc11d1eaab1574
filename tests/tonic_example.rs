//! The tonic example over real sockets: a real tonic client calls the
//! protected gRPC service with a token from the HTTP endpoints.
#![cfg(feature = "tonic")]

#[path = "../examples/tonic/app.rs"]
mod app;
#[path = "../examples/hyper/app.rs"]
mod http_app;

use std::sync::Arc;
use std::time::Duration;

use app::greeter::greeter_client::GreeterClient;
use app::greeter::WhoAmIRequest;
use tonic::Code;
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::Jwt;

/// An HS256 secret: 32 bytes or more.
const SECRET: &str = "tonic-test-secret, 32 bytes or more";

fn with_token(token: Option<&str>) -> tonic::Request<WhoAmIRequest> {
    let mut request = tonic::Request::new(WhoAmIRequest {});
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

#[tokio::test]
async fn grpc_calls_with_valid_expired_and_missing_tokens() {
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
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (http_address, grpc_address) = (http.local_addr().unwrap(), grpc.local_addr().unwrap());
    let http_server = tokio::spawn(http_app::serve(http, jwt.clone()));
    let grpc_server = tokio::spawn(app::serve_grpc(grpc, jwt));

    // A token from the sibling HTTP server's obtain endpoint, over a real socket.
    let access = obtain_access(http_address).await;

    let mut client = GreeterClient::connect(format!("http://{grpc_address}"))
        .await
        .unwrap();
    let reply = client
        .who_am_i(with_token(Some(&access)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (reply.username.as_str(), reply.user_id.as_str()),
        ("alice", "1")
    );

    let missing = client.who_am_i(with_token(None)).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert_eq!(
        missing.message(),
        "Authentication credentials were not provided."
    );

    let garbage = client
        .who_am_i(with_token(Some("garbage")))
        .await
        .unwrap_err();
    assert_eq!(
        (garbage.code(), garbage.message()),
        (Code::Unauthenticated, "Token is invalid")
    );

    clock.advance(Duration::from_secs(7200));
    let expired = client
        .who_am_i(with_token(Some(&access)))
        .await
        .unwrap_err();
    assert_eq!(expired.code(), Code::Unauthenticated);
    assert_eq!(expired.message(), "Token is expired");

    http_server.abort();
    grpc_server.abort();
}

async fn obtain_access(address: std::net::SocketAddr) -> String {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let request = http::Request::post(format!("http://{address}/api/token/"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::from(
            r#"{"username":"alice","password":"wonderland-42"}"#,
        ))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    body["access"].as_str().unwrap().to_owned()
}
