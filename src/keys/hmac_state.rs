//! HMAC keys keyed once: the padded inner and outer states computed when
//! the key is loaded, not per token.

use hmac::{Hmac, Mac};
use jsonwebtoken::Algorithm;
use sha2::{Sha256, Sha384, Sha512};

/// An HMAC key with its inner and outer padded states computed once;
/// every token then costs a clone of the state and the hash of the token.
#[derive(Clone)]
pub(super) enum HmacState {
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

/// The longest HMAC tag (SHA-512).
pub(super) const MAX_TAG: usize = 64;

impl HmacState {
    pub(super) fn new(algorithm: Algorithm, secret: &[u8]) -> Option<Self> {
        match algorithm {
            Algorithm::HS256 => Hmac::new_from_slice(secret).ok().map(HmacState::Sha256),
            Algorithm::HS384 => Hmac::new_from_slice(secret).ok().map(HmacState::Sha384),
            Algorithm::HS512 => Hmac::new_from_slice(secret).ok().map(HmacState::Sha512),
            _ => None,
        }
    }

    pub(super) fn tag(&self, message: &[u8], out: &mut [u8; MAX_TAG]) -> usize {
        fn finish<M: Mac + Clone>(state: &M, message: &[u8], out: &mut [u8]) -> usize {
            let mut mac = state.clone();
            mac.update(message);
            let tag = mac.finalize().into_bytes();
            out[..tag.len()].copy_from_slice(&tag);
            tag.len()
        }
        match self {
            HmacState::Sha256(state) => finish(state, message, out),
            HmacState::Sha384(state) => finish(state, message, out),
            HmacState::Sha512(state) => finish(state, message, out),
        }
    }

    /// Constant-time check of `tag` against the message's tag.
    pub(super) fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        fn check<M: Mac + Clone>(state: &M, message: &[u8], tag: &[u8]) -> bool {
            let mut mac = state.clone();
            mac.update(message);
            mac.verify_slice(tag).is_ok()
        }
        match self {
            HmacState::Sha256(state) => check(state, message, tag),
            HmacState::Sha384(state) => check(state, message, tag),
            HmacState::Sha512(state) => check(state, message, tag),
        }
    }
}
