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
//!   revoked (with [`ReusePolicy::RevokeFamily`](crate::config::ReusePolicy::RevokeFamily)), a `tracing` warning is
//!   emitted, and the answer is [`RotationOutcome::Refused`];
//! - a blacklisted token is refused;
//! - a token whose `jti` was never recorded (minted by another server sharing
//!   the key) starts a new family, unless unrecorded tokens are refused.
//!
//! Logging a token out ([`TokenStore::blacklist`]) revokes its family, even
//! when the token presented was already rotated (another tab's rotation does
//! not win against a logout), and revoking a subject revokes all its
//! families: either also ends the grace window of the family's used tokens,
//! so no replay of a predecessor brings the session back.
//!
//! The window is measured with the clock read inside the atomic step, after
//! the lock is taken. Records are kept until the token's `exp` plus the
//! leeway plus [`CLOCK_SKEW_MARGIN`] ([`RecordedToken::retained_until`]), on
//! every backend and by [`TokenStore::purge_expired`]; a store that loses
//! records brings rotated tokens back as "never seen", so run a persistent
//! backend in production and refuse unrecorded tokens once a migration is
//! over. A sealed successor is kept only while the window lasts: Redis
//! expires it itself; the other backends erase it in
//! [`TokenStore::erase_ended_windows`], which a [`PurgeTask`] runs every few
//! seconds (and [`TokenStore::purge_expired`] erases it too), so it lives at
//! most the window plus the task's interval.
//!
//! A store that cannot answer returns [`StoreError`], which the endpoints
//! answer with `503`: never read as "not blacklisted", never as a logout.
//!
//! Backends: [`MemoryTokenStore`] (always available) and, behind the `sqlite`,
//! `postgres` and `redis` features, [`SqliteTokenStore`](sqlite::SqliteTokenStore),
//! [`PostgresTokenStore`](postgres::PostgresTokenStore) and
//! [`RedisTokenStore`](redis::RedisTokenStore). Why each is safe against a
//! revocation racing a rotation is written in each backend's documentation.
//! The suite every backend passes, `store::conformance`, is behind the
//! `conformance` feature: enable it in your dev-dependencies to run it on
//! your own backend.
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

use std::time::Duration;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

mod checkpoint;
mod error;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
mod purge;
mod record;
#[cfg(feature = "redis")]
pub mod redis;
mod rotation;
mod rules;
pub mod seal;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod token_store;

#[doc(hidden)]
pub use checkpoint::{Checkpoint, PauseHook};
pub use error::StoreError;
pub use memory::MemoryTokenStore;
pub use purge::{PurgeSchedule, PurgeTask, DEFAULT_RECORDS_EVERY};
pub use record::{RecordedToken, TokenState};
pub use rotation::{BlacklistOutcome, Refusal, Rotation, RotationOutcome, RotationRules};
pub use token_store::TokenStore;

pub use crate::future::BoxFuture;

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
