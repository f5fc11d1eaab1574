//! gRPC with tonic, protected by `AuthLayer`:
//! `cargo run --example tonic --features tonic`.
//!
//! Tokens come from the HTTP endpoints on 127.0.0.1:8001 (plain hyper, the
//! `hyper` example's service); the gRPC service `greeter.v1.Greeter` listens
//! on 127.0.0.1:50051 and wants `authorization: Bearer <access token>`.
//! Log in as `alice` / `wonderland-42`.

mod app;
#[path = "../hyper/app.rs"]
mod http_app;

use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::Jwt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt().init();
    let secret = std::env::var("TOWER_JWT_SECRET")
        .unwrap_or_else(|_| format!("{:032x}", rand::random::<u128>()));
    let hasher = PasswordHasher::default();
    let users = MemoryUserStore::new();
    users
        .create("alice", &hasher.hash("wonderland-42")?, true)
        .await?;
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(secret).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .build()?;
    let http = tokio::net::TcpListener::bind("127.0.0.1:8001").await?;
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:50051").await?;
    tracing::info!(http = %http.local_addr()?, grpc = %grpc.local_addr()?, "serving");
    tokio::spawn(http_app::serve(http, jwt.clone()));
    app::serve_grpc(grpc, jwt).await?;
    Ok(())
}
