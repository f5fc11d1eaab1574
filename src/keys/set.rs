use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::Algorithm;

use super::Key;
use crate::config::ConfigError;

/// The keys of a token codec: one signing key and any number of verify-only
/// keys, each with its own algorithm and, usually, a `kid`.
///
/// Tokens are signed with the signing key and carry its `kid` (asymmetric
/// keys always have one: the configured id, else the key's RFC 7638
/// thumbprint; an HMAC key only when one is configured, so the contract's
/// exact header `{"alg":"HS256","typ":"JWT"}` stays). A token is verified
/// with the key its `kid` names, only if the token's `alg` is that key's
/// algorithm; `jku`, `x5u` and `jwk` headers are never followed.
///
/// Rotation without downtime: add the new key as verify-only, then make it
/// the signing key (the old one stays verify-only), then drop the old one
/// after the longest token lifetime. The token codec's `set_key_set` (in the
/// `token` module) swaps the whole set atomically; readers never wait.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::keys::{Key, KeySet};
/// use tower_simplejwt::Algorithm;
///
/// let old = Key::from_secret(Algorithm::HS256, "old secret, 32 bytes or more, random").unwrap().with_kid("2026-10");
/// let new = Key::from_secret(Algorithm::HS256, "new secret, 32 bytes or more, random").unwrap().with_kid("2026-11");
/// let set = KeySet::new(new, [old]).unwrap();
/// assert_eq!(set.signing_key().and_then(|key| key.kid()), Some("2026-11"));
/// assert_eq!(set.keys().len(), 2);
/// assert!(set.jwks().keys.is_empty(), "HMAC secrets are never published");
/// ```
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<Key>,
    /// Whether `keys[0]` signs (false for the verify-only sets of remote issuers).
    signs: bool,
    /// The base64url header of tokens signed with the signing key.
    header: String,
    /// Which key set of its codec this is: set by
    /// the token codec's `set_key_set`,
    /// so that a verification under a retired set cannot fill the
    /// verified-token cache.
    generation: u64,
}

impl KeySet {
    /// A set that signs with `signing` and also verifies with `verifying`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::{Key, KeySet};
    /// use tower_simplejwt::Algorithm;
    ///
    /// let signing = Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap();
    /// let set = KeySet::new(signing, []).unwrap();
    /// assert!(set.signing_key().is_some());
    /// ```
    pub fn new(
        signing: Key,
        verifying: impl IntoIterator<Item = Key>,
    ) -> Result<Self, ConfigError> {
        if !signing.can_sign() {
            return Err(ConfigError::Invalid(
                "signing key",
                "a public key cannot sign".into(),
            ));
        }
        let keys: Vec<Key> = std::iter::once(signing)
            .chain(verifying)
            .map(with_default_kid)
            .collect();
        for (index, key) in keys.iter().enumerate() {
            let same_kid = keys[..index]
                .iter()
                .any(|other| other.kid() == key.kid() && key.kid().is_some());
            if same_kid {
                return Err(ConfigError::Invalid(
                    "kid",
                    format!("{:?} names two keys", key.kid()),
                ));
            }
        }
        let signing = &keys[0]; // `keys` starts with the signing key.
        let mut header = serde_json::Map::new();
        header.insert("alg".into(), format!("{:?}", signing.algorithm()).into());
        header.insert("typ".into(), "JWT".into());
        if let Some(kid) = signing.kid() {
            header.insert("kid".into(), kid.into());
        }
        let header = serde_json::to_vec(&header)
            .map_err(|error| ConfigError::Invalid("kid", error.to_string()))?;
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
        Ok(KeySet {
            keys,
            signs: true,
            header,
            generation: 0,
        })
    }

    /// A set that only verifies (the published keys of another issuer, say).
    /// Kids must be unique; keys without one are tried by algorithm.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::{Key, KeySet};
    ///
    /// let set = KeySet::verify_only([]).unwrap();
    /// assert!(set.signing_key().is_none());
    /// ```
    pub fn verify_only(keys: impl IntoIterator<Item = Key>) -> Result<Self, ConfigError> {
        let keys: Vec<Key> = keys.into_iter().map(with_default_kid).collect();
        for (index, key) in keys.iter().enumerate() {
            if key.kid().is_some() && keys[..index].iter().any(|other| other.kid() == key.kid()) {
                return Err(ConfigError::Invalid(
                    "kid",
                    format!("{:?} names two keys", key.kid()),
                ));
            }
        }
        Ok(KeySet {
            keys,
            signs: false,
            header: String::new(),
            generation: 0,
        })
    }

    /// Whether a key of this set has this `kid`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::{Key, KeySet};
    /// use tower_simplejwt::Algorithm;
    ///
    /// let signing = Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap().with_kid("a");
    /// let set = KeySet::new(signing, []).unwrap();
    /// assert!(set.has_kid("a") && !set.has_kid("b"));
    /// ```
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }

    /// The key tokens are signed with.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::KeySet;
    ///
    /// assert!(KeySet::verify_only([]).unwrap().signing_key().is_none());
    /// ```
    pub fn signing_key(&self) -> Option<&Key> {
        self.keys.first().filter(|_| self.signs)
    }

    /// Every key, the signing key first.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::{Key, KeySet};
    /// use tower_simplejwt::Algorithm;
    ///
    /// let new = Key::from_secret(Algorithm::HS256, "new secret, 32 bytes or more, random").unwrap().with_kid("new");
    /// let old = Key::from_secret(Algorithm::HS256, "old secret, 32 bytes or more, random").unwrap().with_kid("old");
    /// let set = KeySet::new(new, [old]).unwrap();
    /// assert_eq!(set.keys()[0].kid(), Some("new"));
    /// ```
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The public keys as a JWK Set (RFC 7517), for `/.well-known/jwks.json`.
    /// HMAC secrets are never included.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::keys::{Key, KeySet};
    /// use tower_simplejwt::Algorithm;
    ///
    /// let set = KeySet::new(Key::from_secret(Algorithm::HS256, "a long random secret, 32 bytes or more").unwrap(), []).unwrap();
    /// assert!(set.jwks().keys.is_empty());
    /// ```
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(Key::public_jwk).collect(),
        }
    }

    pub(crate) fn header(&self) -> &str {
        &self.header
    }

    /// The generation of this set in its codec (0 for the first one).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The same set as generation `generation` of its codec.
    pub(crate) fn with_generation(mut self, generation: u64) -> Self {
        self.generation = generation;
        self
    }

    /// The key that verifies a token with this `kid` and `alg`: the key of
    /// that `kid` when there is one; otherwise (no `kid`, or one we do not
    /// know, as from tokens minted elsewhere) any key of that algorithm. A
    /// key's algorithm is always its own, so the header never picks it.
    pub(crate) fn find_verifier(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        verifies: impl Fn(&Key) -> bool,
    ) -> Option<&Key> {
        let of_algorithm = || self.keys.iter().filter(move |key| key.algorithm() == alg);
        let named = kid.and_then(|kid| of_algorithm().find(|key| key.kid() == Some(kid)));
        match named {
            Some(key) => verifies(key).then_some(key),
            None => of_algorithm().find(|key| verifies(key)),
        }
    }
}

/// Asymmetric keys get their thumbprint as `kid` when none is configured.
fn with_default_kid(key: Key) -> Key {
    match (key.kid(), key.thumbprint()) {
        (None, Some(thumbprint)) => key.with_kid(thumbprint),
        _ => key,
    }
}
