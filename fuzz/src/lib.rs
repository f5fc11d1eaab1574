//! Shared pieces of the fuzz targets: one fixed key, one fixed clock, and
//! tokens signed over whatever header and payload the fuzzer chose, so that
//! the checks after the signature are reached.

use std::sync::{Arc, LazyLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
use tower_simplejwt::token::TokenCodec;
use tower_simplejwt::Jwt;

pub const SECRET: &str = "fuzz-secret-of-at-least-32-bytes-long";
pub const NOW: u64 = 1_800_000_000;

pub static CODEC: LazyLock<TokenCodec> = LazyLock::new(|| {
    TokenCodec::with_clock(&JwtConfig::simplejwt_guide(SECRET), Arc::new(ManualClock::new(NOW))).expect("codec")
});

pub static JWT: LazyLock<Jwt> = LazyLock::new(|| {
    let hasher = PasswordHasher::argon2id(8, 1, 1).expect("cheap argon2");
    Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), hasher))
        .clock(Arc::new(ManualClock::new(NOW)))
        .build()
        .expect("jwt")
});

pub static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"));

/// Splits fuzz input at the first 0xff byte into a header and a payload.
pub fn header_and_payload(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&byte| byte == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (br#"{"alg":"HS256","typ":"JWT"}"#, data),
    }
}

/// A token over exactly these header and payload bytes, signed with the fuzz key.
pub fn signed(header: &[u8], payload: &[u8]) -> String {
    let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).expect("sign");
    format!("{message}.{signature}")
}
