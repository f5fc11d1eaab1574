//! Django's `pbkdf2_sha256` password hashes, for users migrated from a Django database.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use subtle::ConstantTimeEq;

use super::hash_shape::pbkdf2_sha256;

/// Django's `pbkdf2_sha256` iteration counts go up to 1 000 000 (Django 5.2);
/// anything far above is refused rather than run, so a hostile row cannot
/// stall a worker.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::DjangoHash;
    ///
    /// assert!(DjangoHash::parse("pbkdf2_sha256$1000$salt$not base64").is_none());
    /// assert!(DjangoHash::parse("argon2$...").is_none());
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::DjangoHash;
    ///
    /// let stored = DjangoHash::parse("pbkdf2_sha256$1000$dAZCAAFxUbgXRADhq3uAjd$LCFIUXG8QoT56y0/us0T20a7loNb12YdbODSAJASeBE=").unwrap();
    /// assert!(stored.matches("builder-42"));
    /// assert!(!stored.matches("builder-43"));
    /// ```
    pub fn matches(&self, password: &str) -> bool {
        pbkdf2_sha256(password.as_bytes(), self.salt.as_bytes(), self.iterations)
            .ct_eq(&self.hash)
            .into()
    }
}
