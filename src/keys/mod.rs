//! Keys: signing and verifying keys with their `kid`s, the key set a codec
//! uses, and its public JWKS.
//!
//! HMAC algorithms take a shared secret at least as long as the hash output
//! (32, 48 or 64 bytes for HS256, HS384, HS512: RFC 7518 §3.2); RSA (RS*, PS*), EC (ES256, ES384)
//! and Ed25519 (EdDSA) take PEM keys (or, verify-only, a public JWK). Keys
//! are checked by a trial signature when loaded, so a mismatched or
//! malformed key is a [`ConfigError`](crate::config::ConfigError) at
//! start-up, never a failure on the first request.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::keys::Key;
//! use tower_simplejwt::Algorithm;
//!
//! let key = Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap();
//! assert_eq!(key.algorithm(), Algorithm::HS256);
//! assert!(Key::from_secret(Algorithm::HS256, "").is_err());
//! ```

mod family;
mod hmac_state;
mod jwk;
mod key;
mod set;
mod signer;

pub use family::min_secret_bytes;
pub(crate) use family::{family_of, KeyFamily};
pub use key::Key;
pub use set::KeySet;
