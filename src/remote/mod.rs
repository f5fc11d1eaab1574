//! Trusting other issuers (feature `remote-jwks`): access tokens whose `iss`
//! names a configured issuer are verified with the keys that issuer
//! publishes, and their subjects stay that issuer's.
//!
//! # What is required of an issuer
//!
//! - **HTTPS only.** Keys (and OpenID discovery documents) are fetched over
//!   `https://` alone: an `http://` key URL, or a discovery document whose
//!   `jwks_uri` is `http://`, is a configuration error, since anyone on the
//!   path of a plain fetch could substitute a key and sign tokens for any
//!   user (RFC 8414 §2). [`RemoteSettings::danger_allow_plain_http_for_tests`]
//!   lifts this for tests against a local issuer, with a warning in the log.
//! - **The issuer it claims to be.** A discovery document must name exactly
//!   the issuer whose `/.well-known/openid-configuration` it is (OpenID
//!   Connect Discovery §4.3).
//! - **Signing keys.** A published key whose `use` is not `sig`, or whose
//!   `key_ops` leave out `verify`, never verifies a token.
//! - **An audience.** Each issuer names the audience its tokens must carry
//!   ([`RemoteIssuer::with_audience`]): without it, a token the issuer
//!   minted for any other service would be accepted here (RFC 8725 §3.9).
//!   Starting without one is an error unless waived with
//!   [`RemoteIssuer::danger_accept_any_audience`].
//!
//! # Whose user it is
//!
//! A subject id is unique only within its issuer (RFC 7519 §4.1.2): the
//! user `"1"` of another issuer is not our user `"1"`. A verified remote
//! token is never looked up in the local user store. Its subject reaches
//! the handler as a [`RemoteSubject`]
//! (a [`Subject`](crate::credentials::Subject) whose `issuer` is set) and
//! its verified claims as [`RemoteClaims`] (with the issuer) — never as a
//! local `Subject` or local [`Claims`], so a handler that extracts `Subject`
//! or `Claims` answers a remote token with the contract's 401
//! "Authentication credentials were not provided." To serve a remote subject
//! as a local user, give the issuer a [`RemoteSubjectMapping`]
//! ([`RemoteIssuer::with_subject_mapping`]): the explicit link from their
//! user to ours. The claims of a mapped token stay [`RemoteClaims`]: they
//! are the issuer's, not ours.
//!
//! Remote tokens are access tokens for protected routes only: the token
//! endpoints (refresh, verify, blacklist) and automatic refresh work on our
//! own tokens alone, and an expired remote token is refused, never refreshed.
//!
//! # Keys
//!
//! Keys are fetched when [`RemoteIssuers::start`] runs (a failure there is a
//! clear start-up error) and again in the background every
//! [`RemoteSettings::refresh_interval`]. The request path never waits on
//! the network or a lock for a known key: keys live in an atomically
//! swapped set. A token naming an unknown `kid` triggers one refetch for all
//! the requests waiting on it, and at most one per
//! [`RemoteSettings::min_refetch_interval`], so random kids cannot make us
//! hammer the issuer. While the issuer is down, the cached keys keep working
//! and the failures are logged, for at most [`RemoteSettings::max_key_age`]
//! (24 hours by default) after the last successful fetch; after that the
//! issuer's tokens get the 401 "Token is invalid" (the answer to a token of
//! an issuer we do not know) until a fetch succeeds.
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
//! let config = JwtConfig::simplejwt_guide("a local secret of at least 32 bytes");
//! let issuer = RemoteIssuer::discover("https://auth.example").await?.with_audience("https://api.example");
//! let remote = RemoteIssuers::start(&config, vec![issuer], RemoteSettings::default(), Arc::new(SystemClock)).await?;
//! # let _ = remote; Ok(()) }
//! ```

mod error;
mod fetch;
mod issuer;
mod settings;
mod state;
mod subject;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

pub use crate::credentials::{RemoteClaims, RemoteSubject};
pub use error::RemoteError;
pub use issuer::RemoteIssuer;
pub use settings::RemoteSettings;
pub(crate) use state::Issuer;
pub use subject::RemoteSubjectMapping;

use crate::clock::SharedClock;
use crate::config::JwtConfig;
use crate::token::TokenError;
use crate::token::{Claims, Expected};
use fetch::client;

/// The trusted issuers and their current keys.
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use tower_simplejwt::clock::SystemClock;
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = JwtConfig::simplejwt_guide("a local secret of at least 32 bytes");
/// let issuer = RemoteIssuer::new("https://auth.example", "https://auth.example/jwks.json").with_audience("api");
/// let remote = RemoteIssuers::start(&config, vec![issuer], RemoteSettings::default(), Arc::new(SystemClock)).await?;
/// assert_eq!(remote.fetches("https://auth.example"), Some(1));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RemoteIssuers {
    issuers: Vec<Arc<Issuer>>,
    /// The configuration's `max_token_bytes`: a longer token is not read.
    max_token_bytes: usize,
}

impl RemoteIssuers {
    /// Checks the settings and every issuer (an `https://` key URL, an
    /// audience or its waiver, an `iss` of its own), fetches its keys (any failure is an
    /// error: better a clear start-up failure than 401s) and keeps them
    /// fresh in the background.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_simplejwt::clock::SystemClock;
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::remote::{RemoteError, RemoteIssuer, RemoteIssuers, RemoteSettings};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = JwtConfig::simplejwt_guide("a local secret of at least 32 bytes");
    /// let plain = RemoteIssuer::new("https://auth.example", "http://auth.example/jwks.json").with_audience("api");
    /// let refused = RemoteIssuers::start(&config, vec![plain], RemoteSettings::default(), Arc::new(SystemClock)).await;
    /// assert!(matches!(refused, Err(RemoteError::InsecureUrl { .. })));
    /// # });
    /// ```
    pub async fn start(
        base: &JwtConfig,
        issuers: Vec<RemoteIssuer>,
        settings: RemoteSettings,
        clock: SharedClock,
    ) -> Result<Arc<Self>, RemoteError> {
        settings.check()?;
        for (index, issuer) in issuers.iter().enumerate() {
            issuer.check(&settings)?;
            let twice = issuers[..index]
                .iter()
                .any(|earlier| earlier.issuer == issuer.issuer);
            if twice || base.issuer.as_deref() == Some(issuer.issuer.as_str()) {
                return Err(RemoteError::AmbiguousIssuer {
                    issuer: issuer.issuer.clone(),
                });
            }
        }
        let client = client(settings.plain_http_allowed());
        let mut started = Vec::new();
        for issuer in issuers {
            let mut config = base.clone();
            config.issuer = Some(issuer.issuer.clone());
            config.audience = issuer.audience.clone();
            let issuer = Arc::new(Issuer::new(
                issuer,
                &config,
                client.clone(),
                settings.clone(),
                clock.clone(),
            )?);
            issuer.fetch().await?;
            started.push(issuer);
        }
        let remote = Arc::new(RemoteIssuers {
            issuers: started,
            max_token_bytes: base.max_token_bytes,
        });
        tokio::spawn(refresh_in_background(
            Arc::downgrade(&remote),
            settings.refresh_interval,
        ));
        Ok(remote)
    }

    /// The issuer a token names in its `iss`, when it is one of ours. A
    /// token over `max_token_bytes` is not decoded: it names none (and is
    /// refused as too long by the local verification).
    pub(crate) fn issuer_of(&self, token: &str) -> Option<&Arc<Issuer>> {
        #[derive(Deserialize)]
        struct Iss<'a> {
            #[serde(borrow)]
            iss: Option<std::borrow::Cow<'a, str>>,
        }
        if token.len() > self.max_token_bytes {
            return None;
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
    /// remembers it): that issuer and the verification, without reading the
    /// token's `iss`. The caller checks the age of the issuer's keys.
    pub(crate) fn verify_remembered(
        &self,
        token: &str,
        expected: Expected,
    ) -> Option<(&Arc<Issuer>, Result<Claims, TokenError>)> {
        if token.len() > self.max_token_bytes {
            return None;
        }
        self.issuers.iter().find_map(|issuer| {
            issuer
                .codec
                .verify_if_cached(token, expected)
                .map(|verified| (issuer, verified))
        })
    }

    /// How many times the keys of `issuer` were fetched (start-up included).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example(remote: std::sync::Arc<tower_simplejwt::remote::RemoteIssuers>) {
    /// assert_eq!(remote.fetches("https://unknown.example"), None);
    /// # }
    /// ```
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
                tracing::warn!(%error, "issuer keys not refreshed; the cached keys stay in use until max_key_age");
            }
        }
    }
}

#[cfg(test)]
mod tests;
