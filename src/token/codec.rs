use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::cache::VerifiedCache;
use super::claims::{ClaimNames, NumericDate, RawClaims, StringClaim};
use super::header::parse_header;
use super::jti::new_jti;
use super::{Claims, Expected, TokenKind, UserIdClaim};
use crate::clock::{SharedClock, SystemClock};
use crate::config::{ConfigError, JwtConfig};
use crate::error::TokenError;
use crate::lock::lock;
use arc_swap::ArcSwap;

use crate::keys::{family_of, Key, KeyFamily, KeySet};

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
    inner: Arc<CodecInner>,
}

#[derive(Debug)]
struct CodecInner {
    /// The keys, swapped atomically by [`TokenCodec::set_key_set`].
    keys: ArcSwap<KeySet>,
    /// The configured algorithm, for codecs that only verify.
    algorithm: Algorithm,
    names: ClaimNames,
    access_lifetime: u64,
    refresh_lifetime: u64,
    leeway: u64,
    audience: Option<String>,
    issuer: Option<String>,
    max_token_bytes: usize,
    clock: SharedClock,
    /// Tokens whose asymmetric signature was checked already.
    cache: Option<VerifiedCache>,
    /// The generation of the current key set; held while a new set is
    /// installed, so rotations happen one at a time and in order.
    generation: Mutex<u64>,
    /// Runs between a signature check and the cache insertion it leads to,
    /// so a test can rotate the keys exactly there.
    #[cfg(test)]
    before_cache_insert: TestHook,
}

/// A closure run once at a point of a verification, in tests.
#[cfg(test)]
#[derive(Default)]
struct TestHook(Mutex<Option<Box<dyn FnOnce() + Send>>>);

#[cfg(test)]
impl TestHook {
    fn run(&self) {
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

/// A freshly minted token and its claims.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::token::TokenCodec;
///
/// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
/// let minted = codec.mint_pair("1", &serde_json::Map::new()).unwrap().refresh;
/// assert_eq!(minted.token.split('.').count(), 3);
/// assert_eq!(minted.claims.jti.len(), 32);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MintedToken {
    /// The encoded token.
    pub token: String,
    /// What it says.
    pub claims: Claims,
}

/// A refresh token and the access token minted from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: MintedToken,
    /// The access token, carrying the refresh token's subject and extra claims.
    pub access: MintedToken,
}

/// A token that passed every check but, possibly, expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// Its claims.
    pub claims: Claims,
    /// Whether `exp` has passed (beyond the leeway).
    pub expired: bool,
}

/// Signing failed: the key cannot sign (checked at construction, so this is not expected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token signing failed: {0}")]
pub struct SignError(String);

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

    /// A new refresh token for `user_id` with `extra` claims, and its access token.
    pub fn mint_pair(
        &self,
        user_id: &str,
        extra: &Map<String, Value>,
    ) -> Result<TokenPair, SignError> {
        let refresh = self.mint_refresh(user_id, extra)?;
        let access = self.mint_access_from(&refresh.claims)?;
        Ok(TokenPair { refresh, access })
    }

    /// A new refresh token for `user_id` carrying `extra` claims.
    ///
    /// Extra claims named like a standard claim (`exp`, `jti`, the type or
    /// user id claim, and `aud`/`iss` when configured) are dropped.
    pub fn mint_refresh(
        &self,
        user_id: &str,
        extra: &Map<String, Value>,
    ) -> Result<MintedToken, SignError> {
        let claims = Claims {
            token_type: None,
            jti: String::new(),
            exp: 0,
            iat: None,
            nbf: None,
            user_id: UserIdClaim::Id(user_id.to_owned()),
            extra: extra.clone(),
        };
        self.mint(TokenKind::Refresh, &claims)
    }

    /// An access token carrying every claim of `refresh` except its type, `exp`, `iat` and `jti`.
    pub fn mint_access_from(&self, refresh: &Claims) -> Result<MintedToken, SignError> {
        self.mint(TokenKind::Access, refresh)
    }

    /// The successor of a rotated refresh token: the same claims, a new `jti`, `iat` and `exp`.
    pub fn mint_successor(&self, refresh: &Claims) -> Result<MintedToken, SignError> {
        self.mint(TokenKind::Refresh, refresh)
    }

    fn mint(&self, kind: TokenKind, template: &Claims) -> Result<MintedToken, SignError> {
        let inner = &*self.inner;
        let now = self.now();
        let lifetime = match kind {
            TokenKind::Access => inner.access_lifetime,
            TokenKind::Refresh => inner.refresh_lifetime,
        };
        let mut extra = template.extra.clone();
        extra.retain(|name, _| !self.is_standard_claim(name));
        if let Some(audience) = &inner.audience {
            extra.insert("aud".into(), Value::String(audience.clone()));
        }
        if let Some(issuer) = &inner.issuer {
            extra.insert("iss".into(), Value::String(issuer.clone()));
        }
        let claims = Claims {
            token_type: Some(kind.as_str().to_owned()),
            jti: new_jti(),
            exp: now.saturating_add(lifetime),
            iat: Some(now),
            nbf: template.nbf,
            user_id: template.user_id.clone(),
            extra,
        };
        let payload = serde_json::to_vec(&Payload {
            names: &inner.names,
            claims: &claims,
        })
        .map_err(|error| SignError(error.to_string()))?;
        let keys = inner.keys.load();
        let mut token = String::with_capacity(keys.header().len() + payload.len() * 4 / 3 + 90);
        token.push_str(keys.header());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signing_key = keys
            .signing_key()
            .ok_or_else(|| SignError("this codec only verifies".into()))?;
        let signature = signing_key.sign(token.as_bytes()).map_err(SignError)?;
        token.push('.');
        token.push_str(&signature);
        Ok(MintedToken { token, claims })
    }

    fn is_standard_claim(&self, name: &str) -> bool {
        let names = &self.inner.names;
        matches!(name, "exp" | "iat" | "nbf")
            || name == names.jti
            || name == names.token_type
            || name == names.user_id
            || (name == "aud" && self.inner.audience.is_some())
            || (name == "iss" && self.inner.issuer.is_some())
    }

    /// Verifies `token` and returns its claims.
    ///
    /// The checks run in the reference's order, so the same bad token gets the
    /// same message: size and shape, header algorithm, signature, payload,
    /// `iat` and `nbf` (not in the future), `exp` (not past), `aud`, `iss`,
    /// then the presence of `exp`, `jti` and the token type.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenError;
    /// use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let pair = codec.mint_pair("1", &serde_json::Map::new()).unwrap();
    /// assert_eq!(
    ///     codec.verify(&pair.access.token, Expected::Kind(TokenKind::Refresh)),
    ///     Err(TokenError::WrongType),
    /// );
    /// assert_eq!(codec.verify("garbage", Expected::Any), Err(TokenError::Invalid));
    /// ```
    pub fn verify(&self, token: &str, expected: Expected) -> Result<Claims, TokenError> {
        self.check(token, expected, false).map(|(claims, _)| claims)
    }

    /// Like [`verify`](Self::verify), but a token that passes every check
    /// except expiry is returned too, marked expired. Automatic refresh uses
    /// it to make sure an expired access token is otherwise sound.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_simplejwt::clock::ManualClock;
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};
    ///
    /// let clock = ManualClock::new(1_000_000);
    /// let codec = TokenCodec::with_clock(&JwtConfig::new("a long random secret, 32 bytes or more"), Arc::new(clock.clone())).unwrap();
    /// let access = codec.mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
    /// clock.advance(Duration::from_secs(3600));
    /// let verified = codec.verify_even_if_expired(&access, Expected::Kind(TokenKind::Access)).unwrap();
    /// assert!(verified.expired);
    /// assert_eq!(verified.claims.subject(), Some("1"));
    /// ```
    pub fn verify_even_if_expired(
        &self,
        token: &str,
        expected: Expected,
    ) -> Result<VerifiedToken, TokenError> {
        let (claims, expired) = self.check(token, expected, true)?;
        Ok(VerifiedToken { claims, expired })
    }

    /// The header and signature checks of [`verify`](Self::verify) and the
    /// parse of its payload (duplicate claim names refused), with no claim
    /// rule applied: the claims exactly as signed. For tests and the
    /// differential fuzz target against jsonwebtoken.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenCodec;
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let token = codec.mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
    /// assert_eq!(codec.decode_unvalidated(&token).unwrap()["user_id"], "1");
    /// ```
    pub fn decode_unvalidated(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let (_, payload) = check_signature(&self.inner.keys.load(), token)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        self.inner
            .names
            .parse(&payload)
            .map_err(|_| TokenError::Invalid)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)
    }

    /// Every check. An expired token is "Token is expired" at the reference's
    /// point in the order of checks, or with `allow_expired` is reported
    /// beside the claims once every other check passed.
    fn check(
        &self,
        token: &str,
        expected: Expected,
        allow_expired: bool,
    ) -> Result<(Claims, bool), TokenError> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_bytes {
            return Err(TokenError::Invalid);
        }
        let keys = inner.keys.load();
        let cache = inner.cache.as_ref().map(|cache| (cache, cache.hash(token)));
        if let Some(raw) = cache.and_then(|(cache, hash)| cache.get(hash, token)) {
            return self.apply_rules(raw, expected, allow_expired);
        }
        let (asymmetric, payload) = check_signature(&keys, token)?;
        let raw = decode_payload(payload, |json| {
            inner.names.parse(json).map_err(|_| TokenError::Invalid)
        })?;
        // A refresh token is presented once (rotation): not worth remembering.
        if let Some((cache, hash)) =
            cache.filter(|_| expected != Expected::Kind(TokenKind::Refresh))
        {
            #[cfg(test)]
            inner.before_cache_insert.run();
            // Tied to the keys that verified it: dropped if they were replaced meanwhile.
            cache.insert(keys.generation(), hash, token, &raw, asymmetric, self.now());
        }
        self.apply_rules(raw, expected, allow_expired)
    }

    fn apply_rules(
        &self,
        raw: RawClaims,
        expected: Expected,
        allow_expired: bool,
    ) -> Result<(Claims, bool), TokenError> {
        let inner = &*self.inner;
        let now = self.now();
        let latest_allowed = now.saturating_add(inner.leeway);
        let iat = not_after(raw.iat, latest_allowed)?;
        let nbf = not_after(raw.nbf, latest_allowed)?;
        let exp = match raw.exp {
            NumericDate::Malformed => return Err(TokenError::Invalid),
            NumericDate::Seconds(exp) => Some(exp),
            NumericDate::Missing => None,
        };
        let expired = exp.is_some_and(|exp| exp.saturating_add(inner.leeway) <= now);
        if expired && !allow_expired {
            return Err(TokenError::Expired);
        }
        if let Some(audience) = &inner.audience {
            let matches = match raw.extra.get("aud") {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
                _ => false,
            };
            if !matches {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(issuer) = &inner.issuer {
            if raw.extra.get("iss").and_then(Value::as_str) != Some(issuer.as_str()) {
                return Err(TokenError::Invalid);
            }
        }
        let exp = exp.ok_or(TokenError::NoExp)?;
        let jti = match raw.jti {
            StringClaim::Text(jti) => jti,
            StringClaim::Missing => return Err(TokenError::NoId),
            StringClaim::NotText => return Err(TokenError::Invalid),
        };
        if let Expected::Kind(kind) = expected {
            match &raw.token_type {
                StringClaim::Missing => return Err(TokenError::NoType),
                StringClaim::Text(found) if found == kind.as_str() => {}
                StringClaim::Text(_) | StringClaim::NotText => return Err(TokenError::WrongType),
            }
        }
        let token_type = match raw.token_type {
            StringClaim::Text(token_type) => Some(token_type),
            StringClaim::Missing | StringClaim::NotText => None,
        };
        let claims = Claims {
            token_type,
            jti,
            exp,
            iat,
            nbf,
            user_id: raw.user_id.unwrap_or(UserIdClaim::Missing),
            extra: raw.extra,
        };
        Ok((claims, expired))
    }
}

/// Splits the token, finds the key its header names, and checks the
/// signature. Returns whether the key is asymmetric (its check expensive)
/// and the base64url payload.
fn check_signature<'t>(keys: &KeySet, token: &'t str) -> Result<(bool, &'t str), TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid);
    };
    let message = &token.as_bytes()[..header.len() + 1 + payload.len()];
    let verified_by = if let Some(key) = keys.signing_key().filter(|_| header == keys.header()) {
        // Our own header, byte for byte: the signing key, nothing to parse.
        key.verify(message, signature).then_some(key)
    } else {
        // Any other header goes through the rules of `header.rs` (`crit`,
        // key-carrying and JWE parameters refused). Its `kid` selects among
        // our keys and its `alg` must be that key's own.
        let header = parse_header(header).map_err(|_| TokenError::Invalid)?;
        keys.find_verifier(header.kid.as_deref(), header.alg, |key| {
            key.verify(message, signature)
        })
    };
    match verified_by {
        Some(key) => Ok((!key.is_hmac(), payload)),
        None => Err(TokenError::Invalid),
    }
}

/// Decodes a base64url payload and hands its JSON to `parse`: on the stack
/// for payloads of the usual size, on the heap beyond.
fn decode_payload<T>(
    payload: &str,
    parse: impl FnOnce(&[u8]) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    const STACK: usize = 1024;
    if payload.len() / 4 * 3 + 3 <= STACK {
        let mut buffer = [0u8; STACK];
        let length = URL_SAFE_NO_PAD
            .decode_slice(payload, &mut buffer)
            .map_err(|_| TokenError::Invalid)?;
        parse(&buffer[..length])
    } else {
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        parse(&bytes)
    }
}

/// `Err(Invalid)` when a date is malformed or later than `latest_allowed`.
fn not_after(date: NumericDate, latest_allowed: u64) -> Result<Option<u64>, TokenError> {
    match date {
        NumericDate::Missing => Ok(None),
        NumericDate::Seconds(seconds) if seconds <= latest_allowed => Ok(Some(seconds)),
        NumericDate::Seconds(_) | NumericDate::Malformed => Err(TokenError::Invalid),
    }
}

/// Claims serialized in the reference's order: type, `exp`, `iat`, `jti`, user id, then the rest.
struct Payload<'a> {
    names: &'a ClaimNames,
    claims: &'a Claims,
}

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let claims = self.claims;
        let mut map = serializer.serialize_map(None)?;
        if let Some(token_type) = &claims.token_type {
            map.serialize_entry(&self.names.token_type, token_type)?;
        }
        map.serialize_entry("exp", &claims.exp)?;
        if let Some(iat) = claims.iat {
            map.serialize_entry("iat", &iat)?;
        }
        map.serialize_entry(&self.names.jti, &claims.jti)?;
        if let UserIdClaim::Id(user_id) = &claims.user_id {
            map.serialize_entry(&self.names.user_id, user_id)?;
        }
        if let Some(nbf) = claims.nbf {
            map.serialize_entry("nbf", &nbf)?;
        }
        for (name, value) in &claims.extra {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}
