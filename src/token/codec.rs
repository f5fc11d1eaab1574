//! The codec: keys parsed once, the claim names and rules of a configuration.
//! Minting is in `mint.rs`, verification in `verify.rs`.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use jsonwebtoken::Algorithm;

use super::cache::VerifiedCache;
use super::payload::ClaimNames;
#[cfg(feature = "remote-jwks")]
use super::{Claims, Expected, TokenError};
use crate::clock::{SharedClock, SystemClock};
use crate::config::{ConfigError, JwtConfig};
use crate::keys::{family_of, Key, KeyFamily, KeySet};
use crate::lock::lock;

/// Mints and verifies tokens with keys parsed once.
///
/// Cheap to clone (one `Arc`). Verification is pinned to the configured
/// algorithm: the token's header only chooses among the configured keys
/// (by `kid`) and must name that key's algorithm. Every registered header
/// parameter has a rule (`crit`, `jku`, `x5u`, `jwk`, `x5c`, `b64` and the
/// JWE-only ones refuse the token; see the module documentation of
/// [`token`](crate::token)).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};
///
/// let codec = TokenCodec::new(&JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more")).unwrap();
/// let pair = codec.mint_pair("1", &serde_json::Map::new()).unwrap();
/// let claims = codec.verify(&pair.access.token, Expected::Kind(TokenKind::Access)).unwrap();
/// assert_eq!(claims.subject(), Some("1"));
/// assert_eq!(claims.exp - claims.iat.unwrap(), 7200);
/// ```
#[derive(Clone, Debug)]
pub struct TokenCodec {
    pub(super) inner: Arc<CodecInner>,
}

#[derive(Debug)]
pub(super) struct CodecInner {
    /// The keys, swapped atomically by [`TokenCodec::set_key_set`].
    pub(super) keys: ArcSwap<KeySet>,
    /// The configured algorithm, for codecs that only verify.
    pub(super) algorithm: Algorithm,
    pub(super) names: ClaimNames,
    pub(super) access_lifetime: u64,
    pub(super) refresh_lifetime: u64,
    pub(super) leeway: u64,
    pub(super) audience: Option<String>,
    pub(super) issuer: Option<String>,
    pub(super) max_token_bytes: usize,
    pub(super) clock: SharedClock,
    /// Tokens whose asymmetric signature was checked already.
    pub(super) cache: Option<VerifiedCache>,
    /// The generation of the current key set; held while a new set is
    /// installed, so rotations happen one at a time and in order.
    pub(super) generation: Mutex<u64>,
    /// Runs between a signature check and the cache insertion it leads to,
    /// so a test can rotate the keys exactly there.
    #[cfg(test)]
    pub(super) before_cache_insert: TestHook,
}

/// A closure run once at a point of a verification, in tests.
#[cfg(test)]
#[derive(Default)]
pub(super) struct TestHook(Mutex<Option<Box<dyn FnOnce() + Send>>>);

#[cfg(test)]
impl TestHook {
    pub(super) fn run(&self) {
        let hook = lock(&self.0).take();
        if let Some(hook) = hook {
            hook();
        }
    }
}

#[cfg(test)]
impl std::fmt::Debug for TestHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestHook")
    }
}

impl TokenCodec {
    /// Checks `config`, parses its keys and reads time from the system clock.
    pub fn new(config: &JwtConfig) -> Result<Self, ConfigError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// Like [`TokenCodec::new`], reading time from `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_simplejwt::clock::ManualClock;
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenCodec;
    ///
    /// let clock = ManualClock::new(1_000);
    /// let codec = TokenCodec::with_clock(&JwtConfig::new("a long random secret, 32 bytes or more"), Arc::new(clock)).unwrap();
    /// assert_eq!(codec.now(), 1_000);
    /// ```
    pub fn with_clock(config: &JwtConfig, clock: SharedClock) -> Result<Self, ConfigError> {
        config.check()?;
        let key = match family_of(config.algorithm)? {
            KeyFamily::Hmac => Key::from_secret(config.algorithm, config.signing_key.expose())?,
            _ => Key::from_pem(
                config.algorithm,
                Some(config.signing_key.expose()),
                config.verifying_key.as_deref(),
            )?,
        };
        let key = match &config.key_id {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        };
        Self::with_key_set(config, KeySet::new(key, [])?, clock)
    }

    /// A codec with every setting of `config` but its keys, which come from
    /// `keys` (a verify-only set makes a codec that only verifies).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_simplejwt::clock::SystemClock;
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::keys::KeySet;
    /// use tower_simplejwt::token::TokenCodec;
    ///
    /// let verifier = TokenCodec::with_key_set(&JwtConfig::default(), KeySet::verify_only([]).unwrap(), Arc::new(SystemClock)).unwrap();
    /// assert!(verifier.mint_pair("1", &serde_json::Map::new()).is_err());
    /// ```
    pub fn with_key_set(
        config: &JwtConfig,
        keys: KeySet,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        let cache = VerifiedCache::new(config.verified_token_cache_capacity);
        Ok(TokenCodec {
            inner: Arc::new(CodecInner {
                // A set taken from another codec carries that codec's generation.
                keys: ArcSwap::from_pointee(keys.with_generation(0)),
                algorithm: config.algorithm,
                names: ClaimNames {
                    token_type: config.token_type_claim.clone(),
                    jti: config.jti_claim.clone(),
                    user_id: config.user_id_claim.clone(),
                },
                access_lifetime: config.access_token_lifetime.as_secs(),
                refresh_lifetime: config.refresh_token_lifetime.as_secs(),
                leeway: config.leeway.as_secs(),
                audience: config.audience.clone(),
                issuer: config.issuer.clone(),
                max_token_bytes: config.max_token_bytes,
                clock,
                cache,
                generation: Mutex::new(0),
                #[cfg(test)]
                before_cache_insert: TestHook::default(),
            }),
        })
    }

    /// The current time of the codec's clock, in seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// The algorithm tokens are signed with.
    pub fn algorithm(&self) -> Algorithm {
        let keys = self.inner.keys.load();
        keys.signing_key()
            .map_or(self.inner.algorithm, Key::algorithm)
    }

    /// The current key set.
    pub fn key_set(&self) -> Arc<KeySet> {
        self.inner.keys.load_full()
    }

    /// The verification of a token remembered by the verified-token cache,
    /// without touching anything else; `None` when it is not remembered.
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn verify_if_cached(
        &self,
        token: &str,
        expected: Expected,
    ) -> Option<Result<Claims, TokenError>> {
        let inner = &*self.inner;
        let cache = inner.cache.as_ref()?;
        let raw = cache.get(cache.hash(token), token)?;
        Some(
            self.apply_rules(raw, expected, false)
                .map(|(claims, _)| claims),
        )
    }

    /// Whether `token` starts with the header this codec signs with.
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn has_own_header(&self, token: &str) -> bool {
        let keys = self.inner.keys.load();
        keys.signing_key().is_some() && token.split('.').next() == Some(keys.header())
    }

    /// Replaces the key set atomically (key rotation): tokens are signed with
    /// its signing key from now on and verified with its keys; verifications
    /// in flight finish with the set they started with, and none waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::keys::{Key, KeySet};
    /// use tower_simplejwt::token::{Expected, TokenCodec};
    /// use tower_simplejwt::Algorithm;
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("old secret, 32 bytes or more, random")).unwrap();
    /// let before = codec.mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
    /// let old = Key::from_secret(Algorithm::HS256, "old secret, 32 bytes or more, random").unwrap();
    /// let new = Key::from_secret(Algorithm::HS256, "new secret, 32 bytes or more, random").unwrap().with_kid("next");
    /// codec.set_key_set(KeySet::new(new, [old]).unwrap());
    /// assert!(codec.verify(&before, Expected::Any).is_ok(), "old tokens verify until their key is dropped");
    /// let after = codec.mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
    /// assert!(codec.verify(&after, Expected::Any).is_ok());
    /// ```
    pub fn set_key_set(&self, keys: KeySet) {
        let inner = &*self.inner;
        let mut generation = lock(&inner.generation);
        *generation += 1;
        inner
            .keys
            .store(Arc::new(keys.with_generation(*generation)));
        // Remembered tokens may belong to a key that is gone, and a
        // verification still running with the old set must not insert its
        // token after this: the cache takes only the new generation now.
        if let Some(cache) = &inner.cache {
            cache.start_generation(*generation);
        }
    }

    /// Sets the code run between a signature check and the cache insertion.
    #[cfg(test)]
    pub(crate) fn before_cache_insert(&self, hook: impl FnOnce() + Send + 'static) {
        *lock(&self.inner.before_cache_insert.0) = Some(Box::new(hook));
    }

    /// Forgets the tokens remembered by the verified-token cache, so the
    /// next use of each is checked in full.
    pub fn forget_verified_tokens(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
    }

    /// How many tokens the verified-token cache remembers.
    #[cfg(test)]
    pub(crate) fn remembered_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, VerifiedCache::len)
    }
}
