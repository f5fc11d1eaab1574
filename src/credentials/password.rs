use std::sync::Arc;
use std::time::Instant;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;

use super::block_pool::BlockPool;
use super::hash_shape::{argon2_into, pbkdf2_sha256, HashShape, ShapeCosts};
use super::DjangoHash;

/// Hashes new passwords with argon2id and verifies argon2 PHC strings and
/// Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>` strings, so users
/// migrated from a Django database log in unchanged.
///
/// Clones share what the hasher has learnt of the hashes it verified: the
/// time each algorithm and parameter set takes. [`verify_dummy`](Self::verify_dummy),
/// run for unknown usernames, spends the time of the slowest of them, so a
/// wrong username costs what a wrong password of the most expensive stored
/// hash costs (say, a user migrated with Django's 1 000 000 pbkdf2 iterations).
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
    /// How long each shape of stored hash has taken to verify, at best.
    costs: Arc<ShapeCosts>,
}

impl Default for PasswordHasher {
    /// argon2id with the OWASP-recommended parameters (19 MiB, 2 passes, 1 lane).
    fn default() -> Self {
        PasswordHasher {
            params: Params::default(),
            costs: Arc::default(),
        }
    }
}

/// Hashing a new password failed (parameters the argon2 crate refuses).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::PasswordHasher;
///
/// // argon2 refuses a memory cost below 8 KiB per lane.
/// let error = PasswordHasher::argon2id(1, 1, 1).unwrap_err();
/// assert!(error.to_string().starts_with("password hashing failed"));
/// ```
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
            costs: Arc::default(),
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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::PasswordHasher;
    ///
    /// let hasher = PasswordHasher::argon2id(1024, 1, 1).unwrap();
    /// let hash = hasher.hash("wonderland-42").unwrap();
    /// assert!(hash.starts_with("$argon2id$"));
    /// assert_ne!(hash, hasher.hash("wonderland-42").unwrap(), "a random salt each time");
    /// ```
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| HashError(error.to_string()))
    }

    /// Whether `password` matches `stored` (argon2 PHC or Django `pbkdf2_sha256`).
    /// Anything unparsable is a mismatch, checked at the cost of an unknown
    /// username (see [`verify_dummy`](Self::verify_dummy)).
    ///
    /// The time the verification took is remembered for
    /// [`verify_dummy`](Self::verify_dummy). A mismatch against a hash
    /// cheaper than the slowest kind verified so far is followed by pbkdf2
    /// iterations worth the difference, so every wrong password, and every
    /// unknown username, costs the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::PasswordHasher;
    ///
    /// let hasher = PasswordHasher::argon2id(1024, 1, 1).unwrap();
    /// let hash = hasher.hash("wonderland-42").unwrap();
    /// assert!(hasher.verify("wonderland-42", &hash));
    /// assert!(!hasher.verify("wonderland-43", &hash));
    /// assert!(!hasher.verify("anything", "!unusable"));
    /// ```
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        self.verify_with(password, stored, &BlockPool::new(0))
    }

    /// [`verify`](Self::verify), with argon2's memory from `pool`.
    pub(crate) fn verify_with(&self, password: &str, stored: &str, pool: &BlockPool) -> bool {
        let Some(shape) = HashShape::of(stored) else {
            // A hash that cannot match (Django's unusable `!…`, an
            // unsupported algorithm) costs what an unknown username costs,
            // so timing does not tell such a user from a missing one.
            self.verify_dummy_with(password, &self.dummy_shape(), pool);
            return false;
        };
        let started = Instant::now();
        let matches = verify_shaped(password, stored, pool);
        let elapsed = started.elapsed();
        self.costs.record(&shape, elapsed);
        if !matches {
            // A wrong password costs what the slowest stored hash costs,
            // as an unknown username does.
            let padding = self.costs.padding_for(&shape, elapsed);
            if padding > 0 {
                pbkdf2_sha256(password.as_bytes(), b"tower-simplejwt padding", padding);
            }
        }
        matches
    }

    /// Spends the work of one verification for an unknown user: that of the
    /// slowest kind of stored hash this hasher (or a clone) has verified, or
    /// of its own parameters before it has verified any. A login with a
    /// wrong username then costs what one with a wrong password costs, so
    /// timing does not reveal which usernames exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::PasswordHasher;
    ///
    /// let hasher = PasswordHasher::argon2id(1024, 1, 1).unwrap();
    /// hasher.verify_dummy("guess");
    /// ```
    pub fn verify_dummy(&self, password: &str) {
        self.verify_dummy_with(password, &self.dummy_shape(), &BlockPool::new(0));
    }

    /// [`verify_dummy`](Self::verify_dummy) of a `shape` chosen earlier
    /// (its memory was reserved for it), with argon2's memory from `pool`.
    pub(crate) fn verify_dummy_with(&self, password: &str, shape: &HashShape, pool: &BlockPool) {
        let started = Instant::now();
        shape.run_dummy(password, pool);
        self.costs.record(shape, started.elapsed());
    }

    /// What [`verify_dummy`](Self::verify_dummy) runs now.
    pub(crate) fn dummy_shape(&self) -> HashShape {
        self.costs
            .slowest()
            .unwrap_or_else(|| HashShape::argon2id(&self.params))
    }

    /// The memory, in KiB, that checking a password against `stored` holds
    /// (against the dummy for an unknown user when `None`, or when `stored`
    /// cannot be verified at all): the stored hash's argon2 memory, and
    /// never less than this hasher's own, so that cheap-looking checks are
    /// not a way around a [`LoginLimit`](super::LoginLimit).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::PasswordHasher;
    ///
    /// let hasher = PasswordHasher::argon2id(8 * 1024, 1, 1).unwrap();
    /// let django = "pbkdf2_sha256$1000$dAZCAAFxUbgXRADhq3uAjd$LCFIUXG8QoT56y0/us0T20a7loNb12YdbODSAJASeBE=";
    /// assert_eq!(hasher.check_memory_kib(Some(django)), 8 * 1024);
    /// assert_eq!(hasher.check_memory_kib(None), 8 * 1024);
    /// ```
    pub fn check_memory_kib(&self, stored: Option<&str>) -> u32 {
        self.check_plan(stored).1
    }

    /// How a password check against `stored` runs: the dummy it runs
    /// instead (for an unknown user, or a hash that cannot be verified),
    /// chosen now so that the memory reserved is its own, and the memory
    /// (KiB) it is charged, as [`check_memory_kib`](Self::check_memory_kib).
    pub(crate) fn check_plan(&self, stored: Option<&str>) -> (Option<HashShape>, u32) {
        let shape = stored.and_then(HashShape::of);
        let dummy = shape.is_none().then(|| self.dummy_shape());
        let memory_kib = shape
            .as_ref()
            .or(dummy.as_ref())
            .map_or(0, HashShape::memory_kib)
            .max(self.params.m_cost());
        (dummy, memory_kib)
    }

    /// What the hasher has learnt of the hashes it verified.
    #[cfg(test)]
    pub(crate) fn costs(&self) -> &ShapeCosts {
        &self.costs
    }
}

/// Verifies a hash whose shape has been read.
fn verify_shaped(password: &str, stored: &str, pool: &BlockPool) -> bool {
    if stored.starts_with("pbkdf2_sha256$") {
        return DjangoHash::parse(stored).is_some_and(|hash| hash.matches(password));
    }
    PasswordHash::new(stored).is_ok_and(|hash| argon2_matches(password, &hash, pool))
}

/// What argon2's `PasswordVerifier` does, with the working memory from
/// `pool`. The parameters come from the stored string, so older hashes
/// keep working.
fn argon2_matches(password: &str, stored: &PasswordHash<'_>, pool: &BlockPool) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Argon2Algorithm::try_from(stored.algorithm),
        stored
            .version
            .map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(stored),
    ) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut output = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = argon2_into(&argon2, password.as_bytes(), salt, &mut output, pool);
    computed.is_ok() && bool::from(output.ct_eq(expected.as_bytes()))
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::lock;

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

    #[test]
    fn unknown_users_cost_what_the_slowest_stored_hash_costs() {
        let hasher = PasswordHasher::argon2id(8, 1, 1).unwrap();
        assert_eq!(hasher.dummy_shape(), HashShape::argon2id(&hasher.params));
        // A migrated user with 200 000 pbkdf2 iterations: thousands of times
        // the work of an 8 KiB, one-pass argon2 hash.
        let migrated = "pbkdf2_sha256$200000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let own = hasher.hash("pw").unwrap();
        assert!(hasher.verify("pw", &own));
        assert!(!hasher.verify("pw", migrated));
        let clone = hasher.clone();
        assert_eq!(
            clone.dummy_shape(),
            HashShape::Pbkdf2Sha256 {
                iterations: 200_000
            },
            "clones share what was learnt"
        );
        assert_eq!(
            clone.check_memory_kib(None),
            8,
            "at least the hasher's own memory"
        );
    }

    #[test]
    fn unusable_hashes_cost_what_an_unknown_user_costs() {
        let hasher = PasswordHasher::argon2id(8, 1, 1).unwrap();
        // The slowest shape seen so far, with more memory than the hasher's own.
        let slowest = HashShape::argon2id(&Params::new(64, 1, 1, None).unwrap());
        hasher
            .costs
            .record(&slowest, std::time::Duration::from_secs(5));
        let expected_memory = hasher.check_memory_kib(None);
        assert_eq!(expected_memory, 64);
        lock(&hasher.costs.recorded).clear();
        hasher.verify_dummy("pw");
        let unknown_user_work = std::mem::take(&mut *lock(&hasher.costs.recorded));
        assert_eq!(unknown_user_work, vec![slowest]);
        for unusable in [
            "!Gw9FqZ1xkT0cYvPnR2sLmA8dE3hJ4uB5oW6iX7yV",
            "",
            "argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv",
            "pbkdf2_sha1$260000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "pbkdf2_sha256$20000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert!(!hasher.verify("pw", unusable), "{unusable}");
            let work = std::mem::take(&mut *lock(&hasher.costs.recorded));
            assert_eq!(work, unknown_user_work, "{unusable}");
            assert_eq!(
                hasher.check_memory_kib(Some(unusable)),
                expected_memory,
                "{unusable}"
            );
        }
    }
}
