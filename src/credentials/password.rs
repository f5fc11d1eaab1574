use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use subtle::ConstantTimeEq;

/// Django's `pbkdf2_sha256` iteration counts go up to 1 000 000 (Django 5.2);
/// anything far above is refused rather than run, so a hostile row cannot
/// stall a worker.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Hashes new passwords with argon2id and verifies argon2 PHC strings and
/// Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>` strings, so users
/// migrated from a Django database log in unchanged.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::PasswordHasher;
///
/// let hasher = PasswordHasher::default();
/// let stored = hasher.hash("wonderland-42").unwrap();
/// assert!(stored.starts_with("$argon2id$"));
/// assert!(hasher.verify("wonderland-42", &stored));
/// assert!(!hasher.verify("wrong", &stored));
///
/// // A hash as Django 5.2 writes it into auth_user.password.
/// let django = "pbkdf2_sha256$1000$dAZCAAFxUbgXRADhq3uAjd$LCFIUXG8QoT56y0/us0T20a7loNb12YdbODSAJASeBE=";
/// assert!(hasher.verify("builder-42", django));
/// assert!(!hasher.verify("builder-43", django));
/// ```
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a fixed password with these parameters, made on first use.
    dummy: Arc<OnceLock<Option<String>>>,
}

impl Default for PasswordHasher {
    /// argon2id with the OWASP-recommended parameters (19 MiB, 2 passes, 1 lane).
    fn default() -> Self {
        PasswordHasher {
            params: Params::default(),
            dummy: Arc::default(),
        }
    }
}

/// Hashing a new password failed (parameters the argon2 crate refuses).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasher {
    /// argon2id with explicit parameters (memory in KiB, passes, lanes).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::PasswordHasher;
    ///
    /// assert!(PasswordHasher::argon2id(8 * 1024, 1, 1).is_ok());
    /// assert!(PasswordHasher::argon2id(0, 0, 0).is_err());
    /// ```
    pub fn argon2id(memory_kib: u32, passes: u32, lanes: u32) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, passes, lanes, None)
            .map_err(|error| HashError(error.to_string()))?;
        Ok(PasswordHasher {
            params,
            dummy: Arc::default(),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(
            Argon2Algorithm::Argon2id,
            Version::V0x13,
            self.params.clone(),
        )
    }

    /// Hashes `password` into an argon2id PHC string with a random salt.
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| HashError(error.to_string()))
    }

    /// Whether `password` matches `stored` (argon2 PHC or Django `pbkdf2_sha256`).
    /// Anything unparsable is a mismatch.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        if stored.starts_with("pbkdf2_sha256$") {
            return DjangoHash::parse(stored).is_some_and(|hash| hash.matches(password));
        }
        match PasswordHash::new(stored) {
            // The parameters come from the stored string, so older hashes keep working.
            Ok(hash) => Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the time of one verification against a fixed hash, for unknown
    /// users: a login with a wrong username costs what one with a wrong
    /// password costs, so timing does not reveal which usernames exist.
    pub fn verify_dummy(&self, password: &str) {
        let dummy = self
            .dummy
            .get_or_init(|| self.hash("tower-simplejwt timing equalizer").ok());
        if let Some(dummy) = dummy {
            let _ = self.verify(password, dummy);
        }
    }
}

/// A parsed Django `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` string.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::DjangoHash;
///
/// let parsed = DjangoHash::parse("pbkdf2_sha256$1000$salt$Wp17OTmLyqhvk3xiOEpEL5jrZUdo/AWI5gvNyp7S7mc=").unwrap();
/// assert_eq!((parsed.iterations, parsed.salt), (1000, "salt"));
/// assert!(DjangoHash::parse("pbkdf2_sha256$0$salt$AAAA").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjangoHash<'a> {
    /// PBKDF2 iterations (1 to 10 000 000).
    pub iterations: u32,
    /// The salt, as text.
    pub salt: &'a str,
    /// The 32-byte derived key.
    pub hash: [u8; 32],
}

impl<'a> DjangoHash<'a> {
    /// Parses a stored hash; anything malformed, or with an iteration count
    /// of 0 or above 10 000 000, is `None`.
    pub fn parse(stored: &'a str) -> Option<Self> {
        let mut parts = stored.strip_prefix("pbkdf2_sha256$")?.split('$');
        let (Some(iterations), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let iterations = iterations
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PBKDF2_ITERATIONS).contains(n))?;
        let decoded = STANDARD.decode(hash).ok()?;
        Some(DjangoHash {
            iterations,
            salt,
            hash: decoded.try_into().ok()?,
        })
    }

    /// Whether `password` derives this hash (compared in constant time).
    pub fn matches(&self, password: &str) -> bool {
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            password.as_bytes(),
            self.salt.as_bytes(),
            self.iterations,
            &mut derived,
        );
        derived.ct_eq(&self.hash).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by Django 5.2's `PBKDF2PasswordHasher().encode("wonderland-42", "tSf3kyvAaWHUi0Rw2bVm0d", 1000)`.
    const DJANGO_HASH: &str =
        "pbkdf2_sha256$1000$tSf3kyvAaWHUi0Rw2bVm0d$Wp17OTmLyqhvk3xiOEpEL5jrZUdo/AWI5gvNyp7S7mc=";

    #[test]
    fn django_hashes_verify() {
        let hasher = PasswordHasher::default();
        assert!(hasher.verify("wonderland-42", DJANGO_HASH));
        assert!(!hasher.verify("wonderland-43", DJANGO_HASH));
        assert!(!hasher.verify("wonderland-42", &DJANGO_HASH.replace("$1000$", "$1001$")));
    }

    #[test]
    fn malformed_django_hashes_are_mismatches() {
        let hasher = PasswordHasher::default();
        for stored in [
            "pbkdf2_sha256$",
            "pbkdf2_sha256$abc$salt$hash",
            "pbkdf2_sha256$0$salt$AAAA",
            "pbkdf2_sha256$4294967295$salt$AAAA",
            "pbkdf2_sha256$1000$salt$not-base64!",
            "pbkdf2_sha256$1000$salt$AAAA",
            "pbkdf2_sha256$1000$salt$hash$extra",
            "md5$whatever",
            "",
            "$argon2id$garbage",
        ] {
            assert!(!hasher.verify("x", stored), "{stored}");
        }
    }

    #[test]
    fn argon2_round_trip_with_custom_params() {
        let hasher = PasswordHasher::argon2id(1024, 1, 1).unwrap();
        let stored = hasher.hash("pw").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(hasher.verify("pw", &stored));
        assert!(
            PasswordHasher::default().verify("pw", &stored),
            "parameters come from the stored hash"
        );
        assert_ne!(hasher.hash("pw").unwrap(), stored, "salts are random");
    }
}
