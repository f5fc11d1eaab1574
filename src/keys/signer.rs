//! Private keys parsed once, for the algorithms whose key parsing costs as
//! much as signing.
//!
//! jsonwebtoken's `crypto::sign` decodes the PKCS#8 key on every call; for
//! ECDSA and Ed25519 that includes deriving the public key, a scalar
//! multiplication as expensive as the signature itself (and for ECDSA it
//! also computes a recovery id that a JWS never carries). The same RustCrypto
//! types jsonwebtoken uses (`p256`, `p384`, `ed25519-dalek`) are kept here
//! ready to sign. RSA keys, whose signing dominates their parsing, stay with
//! jsonwebtoken.

use std::fmt;

use jsonwebtoken::{Algorithm, EncodingKey};
use p256::pkcs8::DecodePrivateKey;
use signature::Signer;

/// A signing key ready to use; its signatures are the JWS forms: `r || s`
/// (fixed size) for ECDSA, the 64-byte signature for Ed25519.
#[derive(Clone)]
pub(crate) enum PreparedSigner {
    Es256(p256::ecdsa::SigningKey),
    Es384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl PreparedSigner {
    /// The prepared form of `encoding`'s PKCS#8 key; `None` for algorithms
    /// left to jsonwebtoken, or a key these types cannot read (jsonwebtoken
    /// then signs, and reports the error when it cannot either).
    pub(crate) fn new(algorithm: Algorithm, encoding: &EncodingKey) -> Option<Self> {
        let der = encoding.as_bytes();
        match algorithm {
            Algorithm::ES256 => p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .ok()
                .map(PreparedSigner::Es256),
            Algorithm::ES384 => p384::ecdsa::SigningKey::from_pkcs8_der(der)
                .ok()
                .map(PreparedSigner::Es384),
            Algorithm::EdDSA => ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .ok()
                .map(PreparedSigner::Ed25519),
            _ => None,
        }
    }

    /// The signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            PreparedSigner::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_vec()
            }
            PreparedSigner::Es384(key) => {
                let signature: p384::ecdsa::Signature = key.sign(message);
                signature.to_vec()
            }
            PreparedSigner::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for PreparedSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material.
        let name = match self {
            PreparedSigner::Es256(_) => "ES256",
            PreparedSigner::Es384(_) => "ES384",
            PreparedSigner::Ed25519(_) => "EdDSA",
        };
        f.debug_tuple("PreparedSigner").field(&name).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::DecodingKey;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(path).unwrap()
    }

    #[test]
    fn prepared_signatures_verify_under_jsonwebtoken() {
        let message = b"eyJhbGciOiJFUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9";
        for (algorithm, name, length) in [
            (Algorithm::ES256, "ec256", 64),
            (Algorithm::ES384, "ec384", 96),
            (Algorithm::EdDSA, "ed25519", 64),
        ] {
            let private = fixture(&format!("{name}_private.pem"));
            let public = fixture(&format!("{name}_public.pem"));
            let (encoding, decoding) = match algorithm {
                Algorithm::EdDSA => (
                    EncodingKey::from_ed_pem(&private).unwrap(),
                    DecodingKey::from_ed_pem(&public).unwrap(),
                ),
                _ => (
                    EncodingKey::from_ec_pem(&private).unwrap(),
                    DecodingKey::from_ec_pem(&public).unwrap(),
                ),
            };
            let signer = PreparedSigner::new(algorithm, &encoding).expect(name);
            let signature = signer.sign(message);
            assert_eq!(signature.len(), length, "{name}");
            let encoded = URL_SAFE_NO_PAD.encode(&signature);
            assert!(
                jsonwebtoken::crypto::verify(&encoded, message, &decoding, algorithm).unwrap(),
                "{name}"
            );
            assert!(
                !jsonwebtoken::crypto::verify(&encoded, b"another message", &decoding, algorithm)
                    .unwrap_or(false),
                "{name}"
            );
            assert_eq!(
                format!("{signer:?}"),
                format!("PreparedSigner({:?})", format!("{algorithm:?}")),
                "no key material in Debug"
            );
        }
        let rsa = EncodingKey::from_rsa_pem(&fixture("rsa_private.pem")).unwrap();
        assert!(
            PreparedSigner::new(Algorithm::RS256, &rsa).is_none(),
            "RSA stays with jsonwebtoken"
        );
    }
}
