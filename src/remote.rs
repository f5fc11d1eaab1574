//! Trusting other issuers (feature `remote-jwks`): tokens whose `iss` names
//! a configured issuer are verified with the keys that issuer publishes.
//!
//! Each issuer is given by its JWKS URL (or found through OpenID discovery
//! with [`RemoteIssuer::discover`]), with the audience to require. Keys are
//! fetched when [`RemoteIssuers::start`] runs (a failure there is a clear
//! start-up error) and again in the background every
//! [`RemoteSettings::refresh_interval`]. The request path never waits on
//! the network or a lock for a known key: keys live in an atomically
//! swapped set. A token naming an unknown `kid` triggers one refetch for all
//! the requests waiting on it, and at most one per
//! [`RemoteSettings::min_refetch_interval`], so random kids cannot make us
//! hammer the issuer. While the issuer is down, the cached keys keep working
//! and the failures are logged.
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use tower_simplejwt::clock::SystemClock;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let config = JwtConfig::simplejwt_guide("local secret");
//! let issuer = RemoteIssuer::discover("https://auth.example").await?.with_audience("api");
//! let remote = RemoteIssuers::start(&config, vec![issuer], RemoteSettings::default(), Arc::new(SystemClock)).await?;
//! # let _ = remote; Ok(()) }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use crate::clock::SharedClock;
use crate::config::{ConfigError, JwtConfig};
use crate::error::TokenError;
use crate::keys::{Key, KeySet};
use crate::token::{Claims, Expected, TokenCodec};

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The largest key document read from an issuer.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// An issuer whose tokens are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIssuer {
    issuer: String,
    jwks_url: String,
    audience: Option<String>,
}

impl RemoteIssuer {
    /// Tokens with `iss` equal to `issuer`, verified with the keys at `jwks_url`.
    pub fn new(issuer: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        RemoteIssuer {
            issuer: issuer.into(),
            jwks_url: jwks_url.into(),
            audience: None,
        }
    }

    /// Finds the JWKS URL through `{issuer}/.well-known/openid-configuration`.
    pub async fn discover(issuer: &str) -> Result<Self, RemoteError> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let client = https_client();
        let document = get(&client, &url, Duration::from_secs(10))
            .await
            .map_err(|cause| RemoteError::Fetch {
                issuer: issuer.to_owned(),
                url: url.clone(),
                cause,
            })?;
        let discovery: Discovery =
            serde_json::from_slice(&document).map_err(|error| RemoteError::Fetch {
                issuer: issuer.to_owned(),
                url,
                cause: error.to_string(),
            })?;
        Ok(RemoteIssuer::new(discovery.issuer, discovery.jwks_uri))
    }

    /// Requires this audience (`aud`) of the issuer's tokens.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The issuer (`iss`) this entry trusts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// How remote keys are kept fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    /// Background refetch period (default 5 minutes).
    pub refresh_interval: Duration,
    /// The least time between two refetches caused by unknown kids (default 10 s).
    pub min_refetch_interval: Duration,
    /// Timeout of one fetch (default 5 s).
    pub timeout: Duration,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            refresh_interval: Duration::from_secs(300),
            min_refetch_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
        }
    }
}

/// An issuer's keys could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The document could not be fetched or read.
    #[error("fetching the keys of issuer {issuer} from {url} failed: {cause}")]
    Fetch {
        /// The issuer.
        issuer: String,
        /// The URL fetched.
        url: String,
        /// Why it failed.
        cause: String,
    },
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The trusted issuers and their current keys.
#[derive(Debug)]
pub struct RemoteIssuers {
    issuers: Vec<Arc<Issuer>>,
}

#[derive(Debug)]
pub(crate) struct Issuer {
    config: RemoteIssuer,
    /// Verifies with the issuer's keys and our claim rules (issuer and audience required).
    codec: TokenCodec,
    client: HttpsClient,
    settings: RemoteSettings,
    clock: SharedClock,
    /// Held by the one refetch in flight; the request path never takes it.
    refetching: tokio::sync::Mutex<()>,
    last_fetch: AtomicU64,
    fetches: AtomicU64,
}

fn https_client() -> HttpsClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

async fn get(client: &HttpsClient, url: &str, timeout: Duration) -> Result<Bytes, String> {
    let uri: http::Uri = url.parse().map_err(|error| format!("bad URL: {error}"))?;
    let request = http::Request::get(uri)
        .body(Empty::new())
        .map_err(|error| error.to_string())?;
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|error| error.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let body = tokio::time::timeout(
        timeout,
        Limited::new(response.into_body(), MAX_DOCUMENT_BYTES).collect(),
    )
    .await
    .map_err(|_| "timed out".to_owned())?
    .map_err(|error| error.to_string())?;
    Ok(body.to_bytes())
}

impl RemoteIssuers {
    /// Fetches every issuer's keys (any failure is an error: better a clear
    /// start-up failure than 401s) and keeps them fresh in the background.
    pub async fn start(
        base: &JwtConfig,
        issuers: Vec<RemoteIssuer>,
        settings: RemoteSettings,
        clock: SharedClock,
    ) -> Result<Arc<Self>, RemoteError> {
        let client = https_client();
        let mut started = Vec::new();
        for issuer in issuers {
            let mut config = base.clone();
            config.issuer = Some(issuer.issuer.clone());
            config.audience = issuer.audience.clone();
            let codec = TokenCodec::with_key_set(&config, KeySet::verify_only([])?, clock.clone())?;
            let issuer = Arc::new(Issuer {
                config: issuer,
                codec,
                client: client.clone(),
                settings: settings.clone(),
                clock: clock.clone(),
                refetching: tokio::sync::Mutex::new(()),
                last_fetch: AtomicU64::new(0),
                fetches: AtomicU64::new(0),
            });
            issuer.fetch().await?;
            started.push(issuer);
        }
        let remote = Arc::new(RemoteIssuers { issuers: started });
        tokio::spawn(refresh_in_background(
            Arc::downgrade(&remote),
            settings.refresh_interval,
        ));
        Ok(remote)
    }

    /// The issuer a token names in its `iss`, when it is one of ours.
    pub(crate) fn issuer_of(&self, token: &str) -> Option<&Arc<Issuer>> {
        #[derive(Deserialize)]
        struct Iss<'a> {
            #[serde(borrow)]
            iss: Option<std::borrow::Cow<'a, str>>,
        }
        let payload = token.split('.').nth(1)?;
        // Decoded on the stack for tokens of the usual size; nothing is kept.
        let mut buffer = [0u8; 2048];
        let heap;
        let bytes: &[u8] = match URL_SAFE_NO_PAD.decode_slice(payload, &mut buffer) {
            Ok(length) => &buffer[..length],
            Err(_) => {
                heap = URL_SAFE_NO_PAD.decode(payload).ok()?;
                &heap
            }
        };
        let iss = serde_json::from_slice::<Iss<'_>>(bytes).ok()?.iss?;
        self.issuers
            .iter()
            .find(|issuer| issuer.config.issuer == iss)
    }

    /// A token one of the issuers verified before (its verified-token cache
    /// remembers it): verified again without reading its `iss`.
    pub(crate) fn verify_remembered(
        &self,
        token: &str,
        expected: Expected,
    ) -> Option<Result<Claims, TokenError>> {
        self.issuers
            .iter()
            .find_map(|issuer| issuer.codec.verify_if_cached(token, expected))
    }

    /// How many times the keys of `issuer` were fetched (start-up included).
    pub fn fetches(&self, issuer: &str) -> Option<u64> {
        let issuer = self
            .issuers
            .iter()
            .find(|candidate| candidate.config.issuer == issuer)?;
        Some(issuer.fetches.load(Ordering::SeqCst))
    }
}

async fn refresh_in_background(remote: Weak<RemoteIssuers>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(remote) = remote.upgrade() else {
            return;
        };
        for issuer in &remote.issuers {
            let _guard = issuer.refetching.lock().await;
            if let Err(error) = issuer.fetch().await {
                tracing::warn!(%error, "issuer keys not refreshed; the cached keys stay in use");
            }
        }
    }
}

impl Issuer {
    async fn fetch(&self) -> Result<(), RemoteError> {
        let failed = |cause: String| RemoteError::Fetch {
            issuer: self.config.issuer.clone(),
            url: self.config.jwks_url.clone(),
            cause,
        };
        self.last_fetch.store(self.clock.now(), Ordering::SeqCst);
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let document = get(&self.client, &self.config.jwks_url, self.settings.timeout)
            .await
            .map_err(failed)?;
        let jwks: JwkSet =
            serde_json::from_slice(&document).map_err(|error| failed(error.to_string()))?;
        let keys = jwks.keys.iter().filter_map(|jwk| match Key::from_jwk(jwk) {
            Ok(key) => Some(key),
            Err(error) => {
                tracing::warn!(issuer = %self.config.issuer, %error, "a published key is skipped");
                None
            }
        });
        self.codec
            .set_key_set(KeySet::verify_only(keys.collect::<Vec<_>>())?);
        Ok(())
    }

    /// Verifies with the keys at hand.
    pub(crate) fn verify(&self, token: &str, expected: Expected) -> Result<Claims, TokenError> {
        self.codec.verify(token, expected)
    }

    /// Whether the token names a `kid` this issuer's current keys lack.
    pub(crate) fn lacks_kid_of(&self, token: &str) -> bool {
        jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|header| header.kid)
            .is_some_and(|kid| !self.codec.key_set().has_kid(&kid))
    }

    /// Refetches the keys for an unknown `kid`: one fetch for every request
    /// waiting on it, and at most one per `min_refetch_interval`.
    pub(crate) async fn refetch_for(&self, token: &str) {
        let _guard = self.refetching.lock().await;
        if !self.lacks_kid_of(token) {
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
            tracing::warn!(%error, "issuer keys not refetched; the cached keys stay in use");
        }
    }
}
