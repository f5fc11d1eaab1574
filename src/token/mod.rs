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
//! # Header parameters
//!
//! We implement no JWS extension and take keys only from the configuration,
//! so each registered JOSE header parameter is used, ignored or refused
//! (the token is "Token is invalid"):
//!
//! | parameter | rule | why |
//! | --- | --- | --- |
//! | `alg` | used, required | must be the algorithm of the configured key that verifies; `none` and unknown names refused; never picks the key family |
//! | `kid` | used | a string (`null` or another type refused, as PyJWT); chooses among the configured keys only |
//! | `crit` | refused, in any form | RFC 7515 §4.1.11: a listed extension we do not implement (we implement none) refuses the token; a malformed `crit` too |
//! | `jku`, `x5u` | refused | a URL to fetch the verifying key from: keys come only from the configuration, and a token pointing at its own key is an attack (key substitution, SSRF) |
//! | `jwk`, `x5c` | refused | a key carried by the token itself (CVE-2018-0114 style key injection): never used, so never accepted |
//! | `b64` | refused | RFC 7797 unencoded payloads, not implemented (and only valid with `crit`) |
//! | `enc`, `zip`, `epk`, `apu`, `apv`, `iv`, `tag`, `p2s`, `p2c` | refused | JWE-only: an encrypted token is not a signed one (a five-part JWE is refused by its shape) |
//! | `typ` | ignored | the reference neither sets nor checks anything but `JWT`; a string or `null`, as jsonwebtoken reads it |
//! | `cty` | ignored | a nested JWT (`cty: JWT`) has a JWS as payload, not a claims object, so it is refused anyway; a string or `null` |
//! | `x5t`, `x5t#S256` | ignored | certificate thumbprints some issuers add beside `kid`; they never select a key; a string or `null` |
//! | `url`, `nonce` | ignored | RFC 8555 (ACME) request parameters, meaningless here; a string or `null` |
//! | `iss`, `sub`, `aud` | ignored | RFC 7519 §5.3 header copies of claims: the claims checked are the payload's |
//! | `ppt`, `svt` | ignored | RFC 8225 / RFC 9321 (SIP) parameters, meaningless here |
//! | unregistered names | ignored | they carry nothing a verifier must honour |
//!
//! A parameter named twice is refused. Our own tokens' header is compared
//! byte for byte and never parsed.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tower_simplejwt::clock::ManualClock;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::token::TokenError;
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
mod error;
mod header;
mod jti;
mod kind;
mod mint;
mod payload;
mod verify;

pub use claims::{Claims, UserIdClaim};
pub use codec::TokenCodec;
pub use error::TokenError;
pub use kind::{Expected, TokenKind};
pub use mint::{MintedToken, SignError, TokenPair};
pub use verify::VerifiedToken;

#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;
