//! Refresh-token storage: families, rotation, blacklisting.
//!
//! The store keeps a record for every refresh `jti` it has issued or seen:
//! its subject, its family (the chain of tokens rotated from one login), how
//! long the record must be kept and its state; and one record per family,
//! whose state every rotation reads inside its atomic step. A token is
//! usable only while its own record is active **and** its family is not
//! revoked, so revoking a family is one write, whatever its length, and a
//! successor that a concurrent rotation is about to insert is dead as soon
//! as it is written. [`TokenStore::rotate`] is one atomic step:
//!
//! - a family already revoked refuses every token of it;
//! - an active token is marked used (the rotation time and, when a grace
//!   window is set, the successor [sealed](seal) with a key only the
//!   presented token gives are remembered), the successor joins the family,
//!   and the result is [`RotationOutcome::Rotated`];
//! - a used token presented again while its age is strictly below the reuse
//!   grace window gets [`RotationOutcome::Replayed`] with the very same
//!   successor (still sealed: the caller opens it with the presented token),
//!   so parallel tabs and retried requests are not a logout;
//! - a used token presented after the window is reuse: the whole family is
//!   revoked (with [`ReusePolicy::RevokeFamily`]), a `tracing` warning is
//!   emitted, and the answer is [`RotationOutcome::Refused`];
//! - a blacklisted token is refused;
//! - a token whose `jti` was never recorded (minted by another server sharing
//!   the key) starts a new family, unless unrecorded tokens are refused.
//!
//! Logging a token out ([`TokenStore::blacklist`]) revokes its family, and
//! revoking a subject revokes all its families: either also ends the grace
//! window of the family's used tokens, so no replay of a predecessor brings
//! the session back.
//!
//! The window is measured with the clock read inside the atomic step, after
//! the lock is taken. Records are kept until the token's `exp` plus the
//! leeway plus [`CLOCK_SKEW_MARGIN`] ([`RecordedToken::retained_until`]), on
//! every backend and by [`TokenStore::purge_expired`]; a store that loses
//! records brings rotated tokens back as "never seen", so run a persistent
//! backend in production and refuse unrecorded tokens once a migration is
//! over. A sealed successor is kept only while the window lasts.
//!
//! A store that cannot answer returns [`StoreError`], which the endpoints
//! answer with `503`: never read as "not blacklisted", never as a logout.
//!
//! Backends: [`MemoryTokenStore`] (always available) and, behind the `sqlite`,
//! `postgres` and `redis` features, [`SqliteTokenStore`](sqlite::SqliteTokenStore),
//! [`PostgresTokenStore`](postgres::PostgresTokenStore) and
//! [`RedisTokenStore`](redis::RedisTokenStore). Why each is safe against a
//! revocation racing a rotation is written in each backend's documentation.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tower_simplejwt::clock::ManualClock;
//! use tower_simplejwt::store::{seal, MemoryTokenStore, RecordedToken, Rotation, RotationOutcome, RotationRules, TokenStore};
//!
//! # tokio_test_block_on(async {
//! let store = MemoryTokenStore::new();
//! let clock = Arc::new(ManualClock::new(1_000));
//! let first = RecordedToken::new("a".repeat(32), "1", 2_000);
//! store.record(first.clone()).await?;
//!
//! let second = RecordedToken::new("b".repeat(32), "1", 3_000);
//! let rules = RotationRules { reuse_grace: Duration::from_secs(5), ..RotationRules::default() };
//! let sealed = seal::seal("T1", &first.jti, "T2").unwrap();
//! let rotation = Rotation { presented: first.clone(), successor: second.clone(), sealed_successor: Some(sealed), rules };
//! assert_eq!(store.rotate(rotation.clone(), clock.clone()).await?, RotationOutcome::Rotated);
//!
//! // The same token again inside the grace window: the same successor, opened with the presented token.
//! let again = Rotation { successor: RecordedToken::new("c".repeat(32), "1", 3_000), sealed_successor: Some(seal::seal("T1", &first.jti, "T3").unwrap()), ..rotation };
//! let RotationOutcome::Replayed { sealed_successor } = store.rotate(again, clock).await? else { panic!() };
//! assert_eq!(seal::open("T1", &first.jti, &sealed_successor).unwrap(), "T2");
//! # Ok::<(), tower_simplejwt::store::StoreError>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::config::{JwtConfig, ReusePolicy};

mod checkpoint;
pub mod conformance;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
mod rules;
pub mod seal;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[doc(hidden)]
pub use checkpoint::{Checkpoint, PauseHook};
pub use memory::MemoryTokenStore;

/// How long past `exp + leeway` every backend keeps a record: the largest
/// difference between the clocks of the servers and of the store (Redis
/// expires keys by its own clock) that cannot bring a logged-out token back.
///
/// # Examples
///
/// ```
/// assert_eq!(tower_simplejwt::store::CLOCK_SKEW_MARGIN.as_secs(), 300);
/// ```
pub const CLOCK_SKEW_MARGIN: Duration = Duration::from_secs(300);

/// The latest time (seconds since the epoch) a backend is given:
/// 9999-12-31T23:59:59Z. Expiries, keep-untils and grace windows beyond it
/// (a huge refresh lifetime or leeway) are clamped to it, so every backend
/// stores an integer it can compare (Redis's Lua numbers are doubles).
///
/// # Examples
///
/// ```
/// assert_eq!(tower_simplejwt::store::MAX_TIMESTAMP, 253_402_300_799);
/// ```
pub const MAX_TIMESTAMP: u64 = 253_402_300_799;

pub use crate::future::BoxFuture;

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
    /// The token's `exp`.
    pub expires_at: u64,
    /// The leeway the token is verified with: it is accepted until `exp + leeway`.
    pub leeway: Duration,
    /// A bound on the keep-until of every token its family may already hold
    /// (tokens minted before this one are kept at most until now + the
    /// refresh lifetime + leeway + [`CLOCK_SKEW_MARGIN`]); 0 when unknown.
    /// A family revoked through this token is kept at least that long, so
    /// a later token of it never outlives the revocation.
    pub family_until: u64,
}

impl RecordedToken {
    /// A token record, verified without leeway.
    pub fn new(jti: impl Into<String>, subject: impl Into<String>, expires_at: u64) -> Self {
        RecordedToken {
            jti: jti.into(),
            subject: subject.into(),
            expires_at,
            leeway: Duration::ZERO,
            family_until: 0,
        }
    }

    /// The same record whose family may hold tokens kept until `family_until`
    /// (see [`family_until`](Self::family_until)).
    pub fn with_family_until(mut self, family_until: u64) -> Self {
        self.family_until = family_until;
        self
    }

    /// Until when a family revoked through this token is kept: the later of
    /// [`retained_until`](Self::retained_until) and [`family_until`](Self::family_until).
    pub fn family_retained_until(&self) -> u64 {
        self.retained_until()
            .max(self.family_until.min(MAX_TIMESTAMP))
    }

    /// The same record for a token verified with `leeway` on its `exp`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::store::RecordedToken;
    ///
    /// let token = RecordedToken::new("j", "1", 1_000).with_leeway(Duration::from_secs(30));
    /// assert_eq!(token.retained_until(), 1_000 + 30 + 300);
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Until when every backend keeps the record: `exp + leeway +`
    /// [`CLOCK_SKEW_MARGIN`]. Until then the token may still be accepted
    /// by some server, so forgetting it earlier would bring it back as
    /// "never seen".
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::RecordedToken;
    ///
    /// use tower_simplejwt::store::MAX_TIMESTAMP;
    ///
    /// assert_eq!(RecordedToken::new("j", "1", u64::MAX).retained_until(), MAX_TIMESTAMP);
    /// ```
    pub fn retained_until(&self) -> u64 {
        self.expires_at
            .saturating_add(self.leeway.as_secs())
            .saturating_add(CLOCK_SKEW_MARGIN.as_secs())
            .min(MAX_TIMESTAMP)
    }

    /// The token's `exp` as a backend stores it (at most [`MAX_TIMESTAMP`]).
    pub fn stored_expires_at(&self) -> u64 {
        self.expires_at.min(MAX_TIMESTAMP)
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
    /// Recorded and usable (its family is not revoked).
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

impl TokenState {
    /// The state of a token whose own record says `self`, in a family that
    /// is `family_revoked`: a revoked family blacklists every token of it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::TokenState;
    ///
    /// assert_eq!(TokenState::Active.in_family(true), TokenState::Blacklisted);
    /// assert_eq!(TokenState::Unknown.in_family(true), TokenState::Unknown);
    /// assert_eq!(TokenState::Used.in_family(false), TokenState::Used);
    /// ```
    pub fn in_family(self, family_revoked: bool) -> Self {
        match self {
            TokenState::Active | TokenState::Used if family_revoked => TokenState::Blacklisted,
            state => state,
        }
    }
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
    /// The successor's encoded token [sealed](seal) with the presented token,
    /// handed back to replays within the grace window; `None` keeps nothing
    /// (a grace window of 0 never replays). The store keeps it only while the
    /// window lasts and never sees the successor in clear.
    pub sealed_successor: Option<String>,
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
        /// The successor recorded by the first rotation, still sealed: open it
        /// with [`seal::open`] and the presented token.
        sealed_successor: String,
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

    /// Blacklists one refresh token (logout) and revokes its family, which
    /// also ends the grace window of the family's used tokens. An unrecorded
    /// token is recorded as blacklisted; a used or revoked one is
    /// [`BlacklistOutcome::AlreadyBlacklisted`] and changes nothing.
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

    /// Revokes every family of `subject` ("log out everywhere"), which also
    /// ends the grace window of their used tokens; returns how many families
    /// (sessions) were not revoked before. Costs one write per family, not
    /// per rotation.
    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Deletes token records whose [`retained_until`](RecordedToken::retained_until)
    /// is at or before `now` (simplejwt's `flushexpiredtokens`, with the
    /// leeway and the clock-skew margin), families none of whose tokens is
    /// kept any longer, and sealed successors whose grace window has ended;
    /// returns how many token records were deleted.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// Emits the security event of a detected refresh-token reuse.
pub(crate) fn warn_reuse(jti: &str, subject: &str, family: &str, family_revoked: bool) {
    tracing::warn!(
        target: "tower_simplejwt::security",
        jti,
        subject,
        family,
        family_revoked,
        "refresh token reuse detected: a rotated token was presented after the grace window"
    );
}
