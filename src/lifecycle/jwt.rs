//! [`Jwt`]: the configuration, codec, token store and authenticator that
//! every lifecycle operation and every layer shares.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::store::MemoryTokenStore;
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
//!     .token_store(MemoryTokenStore::new())
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! assert_eq!(jwt.config().access_token_lifetime.as_secs(), 300);
//! ```
//!
//! Migration mode (on in [`JwtConfig::simplejwt_guide`]) needs a store that
//! keeps its records across a restart; over the memory store, turn it off:
//!
//! ```
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::lifecycle::BuildError;
//! use tower_simplejwt::Jwt;
//!
//! let authenticator = || PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
//! let guide = JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more");
//! let refused = Jwt::builder(guide.clone()).authenticator(authenticator()).build();
//! assert!(matches!(refused, Err(BuildError::MigrationModeWithForgetfulStore)));
//!
//! let jwt = Jwt::builder(guide.with_migration_mode(false))
//!     .authenticator(authenticator())
//!     .build()
//!     .unwrap();
//! assert_eq!(jwt.config().access_token_lifetime.as_secs(), 7200);
//! ```

use std::fmt;
use std::sync::Arc;

use crate::clock::{SharedClock, SystemClock};
use crate::config::{ConfigError, JwtConfig};
use crate::credentials::Authenticator;
use crate::store::{RotationRules, TokenStore};
use crate::token::TokenCodec;

/// Everything the layers share; cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Jwt {
    inner: Arc<JwtInner>,
}

struct JwtInner {
    config: JwtConfig,
    codec: TokenCodec,
    store: Arc<dyn TokenStore>,
    authenticator: Arc<dyn Authenticator>,
    clock: SharedClock,
    #[cfg(feature = "remote-jwks")]
    remote: Option<Arc<crate::remote::RemoteIssuers>>,
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("config", &self.inner.config)
            .field("store", &self.inner.store)
            .field("authenticator", &self.inner.authenticator)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Jwt`]; see [`Jwt::builder`].
pub struct JwtBuilder {
    #[cfg(feature = "remote-jwks")]
    remote: Option<Arc<crate::remote::RemoteIssuers>>,
    config: JwtConfig,
    store: Option<Arc<dyn TokenStore>>,
    authenticator: Option<Arc<dyn Authenticator>>,
    clock: SharedClock,
}

impl fmt::Debug for JwtBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A [`Jwt`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No authenticator was given.
    #[error("an authenticator is required (Jwt::builder(..).authenticator(..))")]
    MissingAuthenticator,
    /// Migration mode (`accept_unrecorded_refresh_tokens`) with a token
    /// store that forgets its records on restart
    /// ([`TokenStore::is_durable`] is false, as for the default memory store).
    #[error(
        "migration mode (accept_unrecorded_refresh_tokens) is on, but the token store forgets its \
         records when the process restarts: after a restart every logged-out or rotated refresh \
         token would be one the store has never seen, and migration mode accepts those, so \
         logged-out tokens would come back. Use a durable token store (a SQLite file, \
         PostgreSQL, Redis with persistence) with Jwt::builder(..).token_store(..), or turn \
         migration mode off with JwtConfig::with_migration_mode(false)"
    )]
    MigrationModeWithForgetfulStore,
}

impl JwtBuilder {
    /// The token store (default: a [`MemoryTokenStore`](crate::store::MemoryTokenStore),
    /// which forgets on restart and so cannot serve migration mode).
    pub fn token_store(self, store: impl TokenStore) -> Self {
        self.shared_token_store(Arc::new(store))
    }

    /// A token store already behind an `Arc`.
    pub fn shared_token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The authenticator for logins and subject lookups (required).
    pub fn authenticator(self, authenticator: impl Authenticator) -> Self {
        self.shared_authenticator(Arc::new(authenticator))
    }

    /// An authenticator already behind an `Arc`.
    pub fn shared_authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// The clock (default: the system clock); tests pass a [`ManualClock`](crate::clock::ManualClock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Other issuers whose tokens the authentication layer trusts (feature `remote-jwks`).
    #[cfg(feature = "remote-jwks")]
    pub fn remote_issuers(mut self, remote: Arc<crate::remote::RemoteIssuers>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Checks the configuration, parses the keys, and builds the shared state.
    ///
    /// Fails with [`BuildError::MigrationModeWithForgetfulStore`] when
    /// migration mode is on and the token store is not durable.
    pub fn build(self) -> Result<Jwt, BuildError> {
        let codec = TokenCodec::with_clock(&self.config, self.clock.clone())?;
        let authenticator = self.authenticator.ok_or(BuildError::MissingAuthenticator)?;
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(crate::store::MemoryTokenStore::new()));
        if self.config.accept_unrecorded_refresh_tokens && !store.is_durable() {
            return Err(BuildError::MigrationModeWithForgetfulStore);
        }
        Ok(Jwt {
            inner: Arc::new(JwtInner {
                #[cfg(feature = "remote-jwks")]
                remote: self.remote,
                store,
                config: self.config,
                codec,
                authenticator,
                clock: self.clock,
            }),
        })
    }
}

impl Jwt {
    /// Starts building from a configuration.
    pub fn builder(config: JwtConfig) -> JwtBuilder {
        JwtBuilder {
            #[cfg(feature = "remote-jwks")]
            remote: None,
            config,
            store: None,
            authenticator: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &JwtConfig {
        &self.inner.config
    }

    /// The token codec.
    pub fn codec(&self) -> &TokenCodec {
        &self.inner.codec
    }

    /// The token store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Arc<dyn Authenticator> {
        &self.inner.authenticator
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The remote issuers, when the token may be theirs (it does not carry our own header).
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn remote_for(&self, token: &str) -> Option<&crate::remote::RemoteIssuers> {
        let remote = self.inner.remote.as_deref()?;
        (!self.inner.codec.has_own_header(token)).then_some(remote)
    }

    pub(crate) fn rotation_rules(&self) -> RotationRules {
        RotationRules::from_config(&self.inner.config)
    }
}
