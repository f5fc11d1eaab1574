//! Tokens: their kinds, their claims, and the codec that mints and verifies them.
//!
//! Tokens have the contract's shape: header `{"alg":"HS256","typ":"JWT"}`,
//! claims `token_type`, `exp`, `iat`, `jti` (a uuid4 as 32 hex digits) and
//! `user_id` (a string), plus any custom claims. An access token minted from
//! a refresh token copies every claim of it except `token_type`, `exp`,
//! `iat` and `jti`.
//!
//! Verification is stricter than the reference where the reference is
//! lenient: duplicate claim names, padded or standard-alphabet base64, a
//! byte-order mark, negative or out-of-range dates and tokens over the size
//! limit are all "Token is invalid". `iat` and `nbf` in the future are
//! refused, as PyJWT refuses them.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tower_simplejwt::clock::ManualClock;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::error::TokenError;
//! use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};
//!
//! let clock = ManualClock::new(1_700_000_000);
//! let codec = TokenCodec::with_clock(&JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more"), Arc::new(clock.clone())).unwrap();
//! let pair = codec.mint_pair("1", &serde_json::Map::new()).unwrap();
//!
//! clock.advance(Duration::from_secs(7200));
//! assert_eq!(
//!     codec.verify(&pair.access.token, Expected::Kind(TokenKind::Access)),
//!     Err(TokenError::Expired),
//! );
//! ```

mod cache;
mod claims;
mod codec;
mod header;
mod jti;
mod kind;

pub use claims::{Claims, UserIdClaim};
pub use codec::{MintedToken, SignError, TokenCodec, TokenPair, VerifiedToken};
pub use kind::{Expected, TokenKind};

#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;
