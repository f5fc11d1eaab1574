//! One trusted issuer at run time: its keys and their age, the codec that
//! verifies with them, and the refetch of keys it does not have yet.

use std::sync::atomic::{AtomicU64, Ordering};

use jsonwebtoken::jwk::JwkSet;

use super::fetch::{get, verifying_keys, HttpsClient};
use super::{RemoteError, RemoteIssuer, RemoteSettings, RemoteSubjectMapping};
use crate::clock::SharedClock;
use crate::config::JwtConfig;
use crate::keys::KeySet;
use crate::lock::lock;
use crate::token::{Claims, Expected, TokenCodec, TokenError};

/// A trusted issuer and its current keys.
pub(crate) struct Issuer {
    pub(super) config: RemoteIssuer,
    /// Verifies with the issuer's keys and our claim rules (issuer and audience required).
    pub(super) codec: TokenCodec,
    client: HttpsClient,
    settings: RemoteSettings,
    clock: SharedClock,
    /// Held by the one refetch in flight; the request path never takes it.
    pub(super) refetching: tokio::sync::Mutex<()>,
    /// When a fetch was last tried (rate limit of refetches).
    last_fetch: AtomicU64,
    /// When the keys in use were fetched (their age, against `max_key_age`).
    keys_fetched_at: AtomicU64,
    pub(super) fetches: AtomicU64,
    /// The key set last applied, to tell an unchanged fetch apart.
    published: std::sync::Mutex<Option<JwkSet>>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field("keys_fetched_at", &self.keys_fetched_at)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer without keys yet; `config` is the local configuration with
    /// the issuer's `iss` and audience.
    pub(super) fn new(
        config: RemoteIssuer,
        codec_config: &JwtConfig,
        client: HttpsClient,
        settings: RemoteSettings,
        clock: SharedClock,
    ) -> Result<Self, RemoteError> {
        let codec =
            TokenCodec::with_key_set(codec_config, KeySet::verify_only([])?, clock.clone())?;
        Ok(Issuer {
            config,
            codec,
            client,
            settings,
            clock,
            refetching: tokio::sync::Mutex::new(()),
            last_fetch: AtomicU64::new(0),
            keys_fetched_at: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
            published: std::sync::Mutex::new(None),
        })
    }

    pub(super) async fn fetch(&self) -> Result<(), RemoteError> {
        let failed = |cause: String| RemoteError::Fetch {
            issuer: self.config.issuer.clone(),
            url: self.config.jwks_url.clone(),
            cause,
        };
        let started_at = self.clock.now();
        self.last_fetch.store(started_at, Ordering::SeqCst);
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let document = get(&self.client, &self.config.jwks_url, self.settings.timeout)
            .await
            .map_err(failed)?;
        let jwks: JwkSet =
            serde_json::from_slice(&document).map_err(|error| failed(error.to_string()))?;
        self.apply(jwks)?;
        self.keys_fetched_at.store(started_at, Ordering::SeqCst);
        Ok(())
    }

    /// Puts the fetched key set in use, unless it is the one in use: a new
    /// set starts a new cache generation, which forgets every verified
    /// token, and an unchanged one must not (every background refresh and
    /// rate-limited refetch would flush the cache). Whether it changed.
    pub(super) fn apply(&self, jwks: JwkSet) -> Result<bool, RemoteError> {
        let mut published = lock(&self.published);
        if published.as_ref() == Some(&jwks) {
            return Ok(false);
        }
        let keys = verifying_keys(&self.config.issuer, &jwks);
        self.codec.set_key_set(KeySet::verify_only(keys)?);
        *published = Some(jwks);
        Ok(true)
    }

    /// The `iss` of this issuer.
    pub(crate) fn name(&self) -> &str {
        &self.config.issuer
    }

    /// The mapping of this issuer's subjects to local users, if any.
    pub(crate) fn subject_mapping(&self) -> Option<&dyn RemoteSubjectMapping> {
        self.config.subject_mapping.as_deref()
    }

    /// Whether the keys at hand are older than `max_key_age`: the issuer
    /// has been unreachable too long for them to be trusted.
    pub(crate) fn keys_expired(&self) -> bool {
        let age = self
            .clock
            .now()
            .saturating_sub(self.keys_fetched_at.load(Ordering::SeqCst));
        age > self.settings.max_key_age.as_secs()
    }

    /// Verifies with the keys at hand, unless they are too old.
    pub(crate) fn verify(&self, token: &str, expected: Expected) -> Result<Claims, TokenError> {
        if self.keys_expired() {
            tracing::debug!(issuer = %self.config.issuer, "token refused: the issuer's keys are older than max_key_age");
            return Err(TokenError::Invalid);
        }
        self.codec.verify(token, expected)
    }

    /// Whether the keys should be fetched again before verifying `token`:
    /// they are too old, or lack the `kid` it names.
    pub(crate) fn needs_refetch_for(&self, token: &str) -> bool {
        self.keys_expired() || self.lacks_kid_of(token)
    }

    /// Whether the token names a `kid` this issuer's current keys lack.
    fn lacks_kid_of(&self, token: &str) -> bool {
        jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|header| header.kid)
            .is_some_and(|kid| !self.codec.key_set().has_kid(&kid))
    }

    /// Refetches the keys for an unknown `kid` or keys too old: one fetch
    /// for every request waiting on it, and at most one per
    /// `min_refetch_interval`.
    pub(crate) async fn refetch_for(&self, token: &str) {
        let _guard = self.refetching.lock().await;
        if !self.needs_refetch_for(token) {
            return; // fetched while this request waited
        }
        let since = self
            .clock
            .now()
            .saturating_sub(self.last_fetch.load(Ordering::SeqCst));
        if since < self.settings.min_refetch_interval.as_secs() {
            return;
        }
        if let Err(error) = self.fetch().await {
            tracing::warn!(%error, "issuer keys not refetched; the cached keys stay in use until max_key_age");
        }
    }
}
