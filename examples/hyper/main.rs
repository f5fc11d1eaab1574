//! tower-simplejwt on plain hyper 1 + hyper-util, no framework:
//! `cargo run --example hyper`, then log in as `alice` / `wonderland-42`.
//!
//! ```text
//! curl -s -XPOST localhost:8001/api/token/ -H 'content-type: application/json' \
//!      -d '{"username":"alice","password":"wonderland-42"}'
//! curl -s localhost:8001/api/me/ -H "Authorization: Bearer $ACCESS"
//! ```

mod app;

use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::store::MemoryTokenStore;
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
        .token_store(MemoryTokenStore::new())
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .build()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8001").await?;
    tracing::info!(address = %listener.local_addr()?, "serving on plain hyper");
    app::serve(listener, jwt).await;
    Ok(())
}
