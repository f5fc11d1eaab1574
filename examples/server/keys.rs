//! Keys: `keygen`, the HS256 secret, the PEM files of `--signing-key` and
//! `--verifying-key`, and their reload on SIGHUP.

use std::path::PathBuf;

use tower_simplejwt::keys::{min_secret_bytes, Key, KeySet};
use tower_simplejwt::{Algorithm, Jwt};

use crate::Error;

/// The HS256 secret given (`--secret` or `TOWER_JWT_SECRET`), or a random
/// one when none is.
pub fn secret(given: Option<&str>) -> Result<String, Error> {
    let algorithm = Algorithm::HS256;
    let minimum = min_secret_bytes(algorithm).unwrap_or(32);
    match given {
        Some(secret) if !secret.is_empty() => {
            if secret.len() < minimum {
                return Err(format!(
                    "TOWER_JWT_SECRET is {} bytes, but an {algorithm:?} secret must be at least \
                     {minimum} bytes (RFC 7518 §3.2; a short secret can be guessed offline from \
                     one captured token): make one with \
                     `export TOWER_JWT_SECRET=$(server keygen --algorithm {algorithm:?})`",
                    secret.len()
                )
                .into());
            }
            Ok(secret.to_owned())
        }
        _ => {
            tracing::warn!(
                "TOWER_JWT_SECRET is not set: using a random secret, so tokens die with this process"
            );
            Ok(random_secret(minimum))
        }
    }
}

/// `bytes` random bytes as hex text (twice as many characters).
pub fn random_secret(bytes: usize) -> String {
    use rand::RngCore;
    let mut random = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut random);
    random.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What `keygen` prints: a new private key (PKCS#8 PEM) for an asymmetric
/// algorithm, or a random secret (hex, one line) as long as the hash output
/// for an HMAC one.
pub fn generate(algorithm: Algorithm) -> Result<String, Error> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    if let Some(minimum) = min_secret_bytes(algorithm) {
        return Ok(format!("{}\n", random_secret(minimum)));
    }
    let mut rng = rand::rngs::OsRng;
    let pem = match algorithm {
        Algorithm::ES256 => p256::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF)?,
        Algorithm::ES384 => p384::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF)?,
        Algorithm::EdDSA => {
            // PKCS#8 v1 (the seed only), the form jsonwebtoken and OpenSSL read.
            let seed = ed25519_dalek::SigningKey::generate(&mut rng).to_bytes();
            ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: seed,
                public_key: None,
            }
            .to_pkcs8_pem(LineEnding::LF)?
        }
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => {
            rsa::RsaPrivateKey::new(&mut rng, 2048)?.to_pkcs8_pem(LineEnding::LF)?
        }
        other => return Err(format!("keygen: {other:?} is not supported").into()),
    };
    Ok(pem.to_string())
}

/// The key files named on the command line, read again on SIGHUP.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub algorithm: Algorithm,
    pub signing_key: PathBuf,
    pub verifying_keys: Vec<PathBuf>,
}

/// The signing key and the private PEM it came from (the configuration's
/// signing key).
pub struct LoadedKeys {
    pub algorithm: Algorithm,
    pub signing_key_pem: String,
    pub key_set: KeySet,
}

impl KeyFiles {
    /// Reads and parses the files; an error names the file at fault.
    pub fn load(&self) -> Result<LoadedKeys, Error> {
        let signing_key_pem = read(&self.signing_key)?;
        let signing = Key::from_pem(self.algorithm, Some(&signing_key_pem), None)
            .map_err(|error| format!("{}: {error}", self.signing_key.display()))?;
        let mut verifying = Vec::new();
        for path in &self.verifying_keys {
            verifying.push(verifying_key(self.algorithm, &read(path)?).ok_or_else(|| {
                format!(
                    "{}: not a PEM public key of a supported type",
                    path.display()
                )
            })?);
        }
        Ok(LoadedKeys {
            algorithm: self.algorithm,
            signing_key_pem,
            key_set: KeySet::new(signing, verifying)?,
        })
    }

    /// SIGHUP re-reads the key files and swaps the key set; requests never wait.
    pub fn reload_on_sighup(self, jwt: Jwt) {
        #[cfg(unix)]
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                return;
            };
            while hangups.recv().await.is_some() {
                match self.load() {
                    Ok(keys) => {
                        jwt.codec().set_key_set(keys.key_set);
                        tracing::info!("keys reloaded");
                    }
                    Err(error) => {
                        tracing::error!(%error, "SIGHUP: keys not reloaded, the old ones stay")
                    }
                }
            }
        });
        #[cfg(not(unix))]
        let _ = (self, jwt);
    }
}

/// A verifying key: its algorithm is read from the PEM's key type.
fn verifying_key(algorithm: Algorithm, pem: &str) -> Option<Key> {
    [
        algorithm,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::RS256,
    ]
    .into_iter()
    .find_map(|candidate| Key::from_pem(candidate, None, Some(pem)).ok())
}

fn read(path: &PathBuf) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()).into())
}
