//! The successor kept for the grace window, sealed so that only a holder of
//! the presented (predecessor) token can read it.
//!
//! The store never sees the raw presented token: the refresh operation seals
//! the successor before the rotation and opens a replayed one after it. The
//! key is HMAC-SHA256 keyed with the presented token's encoded string, the
//! cipher AES-256-GCM with a random nonce and the presented `jti` as
//! associated data. A database dump or backup therefore holds nothing that
//! refreshes as a token: the sealed value is useless without the
//! predecessor, and it is erased when the grace window ends.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::store::seal;
//!
//! let sealed = seal::seal("presented.jwt.string", "jti-1", "successor.jwt.string").unwrap();
//! assert!(!sealed.contains("successor"));
//! assert_eq!(seal::open("presented.jwt.string", "jti-1", &sealed).unwrap(), "successor.jwt.string");
//! assert!(seal::open("another.jwt.string", "jti-1", &sealed).is_err());
//! ```

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A successor that could not be sealed or opened.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::seal::{open, SealError};
///
/// assert_eq!(open("a.b.c", "j", "not sealed"), Err(SealError::DoesNotOpen));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The cipher refused to seal (a successor beyond its size limit).
    #[error("the successor could not be sealed")]
    Seal,
    /// Not sealed for this presented token: another token, tampered, or never sealed.
    #[error("the sealed successor does not open with the presented token")]
    DoesNotOpen,
}

/// Marks the format, so a later one can be told apart.
const VERSION: &str = "s1.";
const NONCE_LENGTH: usize = 12;
/// Domain separation of the key derivation.
const CONTEXT: &[u8] = b"tower-simplejwt successor seal v1";

fn cipher(presented_token: &str, error: SealError) -> Result<Aes256Gcm, SealError> {
    let mut derivation =
        <Hmac<Sha256> as Mac>::new_from_slice(presented_token.as_bytes()).map_err(|_| error)?;
    derivation.update(CONTEXT);
    let key: [u8; 32] = derivation.finalize().into_bytes().into();
    Ok(Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)))
}

/// Seals `successor_token` for the holder of `presented_token` (whose `jti` is `presented_jti`).
pub fn seal(
    presented_token: &str,
    presented_jti: &str,
    successor_token: &str,
) -> Result<String, SealError> {
    let mut nonce = [0u8; NONCE_LENGTH];
    rand::thread_rng().fill_bytes(&mut nonce);
    let payload = Payload {
        msg: successor_token.as_bytes(),
        aad: presented_jti.as_bytes(),
    };
    let sealed = cipher(presented_token, SealError::Seal)?
        .encrypt(&Nonce::from(nonce), payload)
        .map_err(|_| SealError::Seal)?;
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Opens what [`seal`] sealed, with the same presented token.
///
/// A value that does not open with it (another token, tampered, not sealed
/// at all) is [`SealError::DoesNotOpen`]: the store returned a successor
/// that is not this token's.
pub fn open(presented_token: &str, presented_jti: &str, sealed: &str) -> Result<String, SealError> {
    let corrupt = || SealError::DoesNotOpen;
    let bytes = sealed
        .strip_prefix(VERSION)
        .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
        .filter(|bytes| bytes.len() > NONCE_LENGTH)
        .ok_or_else(corrupt)?;
    let (nonce, ciphertext) = bytes.split_at(NONCE_LENGTH);
    let nonce: [u8; NONCE_LENGTH] = nonce.try_into().map_err(|_| corrupt())?;
    let payload = Payload {
        msg: ciphertext,
        aad: presented_jti.as_bytes(),
    };
    let opened = cipher(presented_token, SealError::DoesNotOpen)?
        .decrypt(&Nonce::from(nonce), payload)
        .map_err(|_| corrupt())?;
    String::from_utf8(opened).map_err(|_| corrupt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_presented_token_opens_its_successor() {
        let sealed = seal("A.B.C", "j1", "D.E.F").unwrap();
        assert_eq!(open("A.B.C", "j1", &sealed).unwrap(), "D.E.F");
        assert!(open("A.B.X", "j1", &sealed).is_err(), "another token");
        assert!(open("A.B.C", "j2", &sealed).is_err(), "another jti");
        assert!(
            open("A.B.C", "j1", "D.E.F").is_err(),
            "a value never sealed"
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(open("A.B.C", "j1", &tampered).is_err(), "tampered");
        assert_ne!(
            seal("A.B.C", "j1", "D.E.F").unwrap(),
            sealed,
            "a fresh nonce each time"
        );
    }
}
