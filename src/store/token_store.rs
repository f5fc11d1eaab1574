//! The storage trait every backend implements.

use std::fmt;

use super::{
    BlacklistOutcome, BoxFuture, RecordedToken, Rotation, RotationOutcome, StoreError, TokenState,
};
use crate::clock::SharedClock;

/// Pluggable storage of refresh-token records.
///
/// Every method is one atomic step for its backend. Implementations are
/// checked by the conformance suite (`store::conformance::run`, behind the
/// `conformance` feature).
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
    /// token is recorded as blacklisted. A used (rotated) token is
    /// [`BlacklistOutcome::AlreadyBlacklisted`] and still revokes its family,
    /// so a logout with a token another tab has just rotated logs that tab
    /// out too; a blacklisted or revoked one changes nothing.
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
    /// kept any longer, and sealed successors whose grace window ended at or
    /// before `now`; returns how many token records were deleted.
    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Erases the sealed successors whose grace window ended at or before
    /// `now`, and nothing else; returns how many were erased (0 when the
    /// backend cannot tell). Meant to run often ([`PurgeTask`](super::PurgeTask)
    /// calls it every few seconds), so backends make it cheap: an index
    /// probe on the SQL stores, a walk over the ended windows only in
    /// memory, nothing on Redis (which expires each successor itself at the
    /// end of its window). The default runs [`purge_expired`](Self::purge_expired).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::{MemoryTokenStore, TokenStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryTokenStore::new();
    /// assert_eq!(store.erase_ended_windows(1_000).await.unwrap(), 0);
    /// # });
    /// ```
    fn erase_ended_windows(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move { self.purge_expired(now).await.map(|_| 0) })
    }
}
