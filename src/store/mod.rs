//! Refresh-token storage: families, rotation, blacklisting.
//!
//! The store keeps a record for every refresh `jti` it has issued or seen:
//! its subject, its family (the chain of tokens rotated from one login), its
//! expiry and its state. [`TokenStore::rotate`] is one atomic step:
//!
//! - an active token is marked used (its successor and the rotation time are
//!   remembered), the successor joins the family, and the result is
//!   [`RotationOutcome::Rotated`];
//! - a used token presented again while its age is strictly below the reuse
//!   grace window gets [`RotationOutcome::Replayed`] with the very same
//!   successor, so parallel tabs and retried requests are not a logout;
//! - a used token presented after the window is reuse: the whole family is
//!   revoked (with [`ReusePolicy::RevokeFamily`]), a `tracing` warning is
//!   emitted, and the answer is [`RotationOutcome::Refused`];
//! - a blacklisted token is refused;
//! - a token whose `jti` was never recorded (minted by another server sharing
//!   the key) starts a new family, unless unrecorded tokens are refused.
//!
//! The window is measured with the clock read inside the atomic step, after
//! the lock is taken. Records live at least until the token's `exp`; a store
//! that loses records brings rotated tokens back as "never seen", so run a
//! persistent backend in production and refuse unrecorded tokens once a
//! migration is over.
//!
//! A store that cannot answer returns [`StoreError`], which the endpoints
//! answer with `503`: never read as "not blacklisted", never as a logout.
//!
//! Backends: [`MemoryTokenStore`] (always available) and, behind the `sqlite`
//! feature, [`SqliteTokenStore`](sqlite::SqliteTokenStore).
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tower_simplejwt::clock::ManualClock;
//! use tower_simplejwt::store::{MemoryTokenStore, RecordedToken, Rotation, RotationOutcome, RotationRules, TokenStore};
//!
//! # tokio_test_block_on(async {
//! let store = MemoryTokenStore::new();
//! let clock = Arc::new(ManualClock::new(1_000));
//! let first = RecordedToken::new("a".repeat(32), "1", 2_000);
//! store.record(first.clone()).await?;
//!
//! let second = RecordedToken::new("b".repeat(32), "1", 3_000);
//! let rules = RotationRules { reuse_grace: Duration::from_secs(5), ..RotationRules::default() };
//! let rotation = Rotation { presented: first.clone(), successor: second.clone(), successor_token: "T2".into(), rules };
//! assert_eq!(store.rotate(rotation.clone(), clock.clone()).await?, RotationOutcome::Rotated);
//!
//! // The same token again inside the grace window: the same successor.
//! let again = Rotation { successor: RecordedToken::new("c".repeat(32), "1", 3_000), successor_token: "T3".into(), ..rotation };
//! assert_eq!(store.rotate(again, clock).await?, RotationOutcome::Replayed { successor_token: "T2".into() });
//! # Ok::<(), tower_simplejwt::store::StoreError>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::config::{JwtConfig, ReusePolicy};

pub mod conformance;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
mod rules;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use memory::MemoryTokenStore;

/// A boxed, sendable future: what the storage traits return, so that they
/// can be used as trait objects (`Arc<dyn TokenStore>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The storage behind a token store failed or could not be reached.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::StoreError;
///
/// let error = StoreError::unavailable("connection refused");
/// assert_eq!(error.to_string(), "token store unavailable: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend did not answer (down, timed out, pool exhausted).
    #[error("token store unavailable: {0}")]
    Unavailable(String),
    /// The backend answered with data that cannot be read.
    #[error("token store data is corrupt: {0}")]
    Corrupt(String),
    /// Not a backend failure: a limit on concurrent work is saturated (the
    /// login limit of [`PasswordAuthenticator`](crate::credentials::PasswordAuthenticator)).
    /// Answered `503 service_unavailable`.
    #[error("overloaded: {0}")]
    Overloaded(String),
}

impl StoreError {
    /// An [`StoreError::Unavailable`] from any displayable cause.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        StoreError::Unavailable(cause.to_string())
    }
}

/// A refresh token as the store knows it.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::RecordedToken;
///
/// let token = RecordedToken::new("0123456789abcdef0123456789abcdef", "1", 1_800_000_000);
/// assert_eq!(token.subject, "1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedToken {
    /// The token's `jti`.
    pub jti: String,
    /// The user id the token was issued to.
    pub subject: String,
    /// The token's `exp`: the record must be kept at least until then.
    pub expires_at: u64,
}

impl RecordedToken {
    /// A token record.
    pub fn new(jti: impl Into<String>, subject: impl Into<String>, expires_at: u64) -> Self {
        RecordedToken {
            jti: jti.into(),
            subject: subject.into(),
            expires_at,
        }
    }
}

/// What a store knows of one `jti`.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::TokenState;
///
/// assert!(TokenState::Used.is_refused_by_verify());
/// assert!(!TokenState::Active.is_refused_by_verify());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Never recorded (or purged after expiry).
    Unknown,
    /// Recorded and usable.
    Active,
    /// Rotated: only a replay within the grace window still gets its successor.
    Used,
    /// Logged out, revoked, or part of a revoked family.
    Blacklisted,
}

impl TokenState {
    /// The state a backend stored as text (`None`: no record).
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
    pub(crate) fn from_stored(state: Option<&str>) -> Result<Self, StoreError> {
        match state {
            None => Ok(TokenState::Unknown),
            Some("active") => Ok(TokenState::Active),
            Some("used") => Ok(TokenState::Used),
            Some("blacklisted") => Ok(TokenState::Blacklisted),
            Some(other) => Err(StoreError::Corrupt(format!(
                "unknown token state {other:?}"
            ))),
        }
    }

    /// Whether the verify endpoint answers "Token is blacklisted" for this state.
    pub fn is_refused_by_verify(self) -> bool {
        matches!(self, TokenState::Used | TokenState::Blacklisted)
    }
}

/// The settings a rotation follows, taken from [`JwtConfig`].
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::store::RotationRules;
///
/// let rules = RotationRules::from_config(&JwtConfig::simplejwt_guide("s"));
/// assert!(rules.blacklist_after_rotation);
/// assert_eq!(rules.reuse_grace.as_secs(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationRules {
    /// How long a rotated token still gets its successor (0: never).
    pub reuse_grace: Duration,
    /// What a replay after the window revokes.
    pub reuse_policy: ReusePolicy,
    /// Mark the presented token used (and so refuse it later). When false,
    /// as the reference with `BLACKLIST_AFTER_ROTATION = False`, it stays active.
    pub blacklist_after_rotation: bool,
    /// Accept a token never recorded, starting a new family.
    pub accept_unrecorded: bool,
}

impl Default for RotationRules {
    fn default() -> Self {
        RotationRules {
            reuse_grace: Duration::ZERO,
            reuse_policy: ReusePolicy::RevokeFamily,
            blacklist_after_rotation: true,
            accept_unrecorded: true,
        }
    }
}

impl RotationRules {
    /// The rules of a configuration.
    pub fn from_config(config: &JwtConfig) -> Self {
        RotationRules {
            reuse_grace: config.reuse_grace,
            reuse_policy: config.reuse_policy,
            blacklist_after_rotation: config.blacklist_after_rotation,
            accept_unrecorded: config.accept_unrecorded_refresh_tokens,
        }
    }
}

/// One rotation request: the presented token, its would-be successor, and the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The refresh token presented to the refresh endpoint.
    pub presented: RecordedToken,
    /// The successor minted for it, recorded if the rotation happens.
    pub successor: RecordedToken,
    /// The successor's encoded token, handed out again to replays within the grace window.
    pub successor_token: String,
    /// The settings to follow.
    pub rules: RotationRules,
}

/// Why a rotation was refused (all are "Token is blacklisted" on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The token was blacklisted (logged out, revoked, or its family revoked).
    Blacklisted,
    /// A used token presented after the grace window: reuse.
    Reused,
    /// The token was never recorded and unrecorded tokens are refused.
    Unrecorded,
}

/// The result of [`TokenStore::rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The successor was recorded; hand it out.
    Rotated,
    /// A replay within the grace window: hand out this earlier successor instead.
    Replayed {
        /// The successor recorded by the first rotation.
        successor_token: String,
    },
    /// Refused: answer "Token is blacklisted".
    Refused(Refusal),
}

/// The result of [`TokenStore::blacklist`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistOutcome {
    /// The token is blacklisted from now on.
    Blacklisted,
    /// It already was (logged out, rotated or revoked before).
    AlreadyBlacklisted,
}

/// Pluggable storage of refresh-token records.
///
/// Every method is one atomic step for its backend. Implementations are
/// checked by [`conformance::run`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use tower_simplejwt::store::{MemoryTokenStore, RecordedToken, TokenState, TokenStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
/// store.record(RecordedToken::new("a".repeat(32), "1", 10)).await.unwrap();
/// assert_eq!(store.state("1", &"a".repeat(32)).await.unwrap(), TokenState::Active);
/// # });
/// ```
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// Records a refresh token issued at login: the first of a new family.
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Rotates a refresh token atomically (see the module documentation).
    /// `clock` is read inside the atomic step.
    fn rotate(
        &self,
        rotation: Rotation,
        clock: SharedClock,
    ) -> BoxFuture<'_, Result<RotationOutcome, StoreError>>;

    /// Blacklists one refresh token (logout). An unrecorded token is recorded as blacklisted.
    fn blacklist(
        &self,
        token: RecordedToken,
    ) -> BoxFuture<'_, Result<BlacklistOutcome, StoreError>>;

    /// What the store knows of the token `jti` of `subject`.
    ///
    /// Records are grouped by subject (a claim of every token, unlike the
    /// family), so every lookup names it.
    fn state<'a>(
        &'a self,
        subject: &'a str,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<TokenState, StoreError>>;

    /// Blacklists every token of `subject` ("log out everywhere"); returns how many were active.
    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Deletes records whose token expired at or before `now` (simplejwt's
    /// `flushexpiredtokens`); returns how many were deleted.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// Emits the security event of a detected refresh-token reuse.
pub(crate) fn warn_reuse(jti: &str, subject: &str, family: &str, revoked: u64) {
    tracing::warn!(
        target: "tower_simplejwt::security",
        jti,
        subject,
        family,
        revoked,
        "refresh token reuse detected: a rotated token was presented after the grace window"
    );
}
