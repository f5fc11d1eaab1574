//! The token store the server builds, wrapped to measure it: every call's
//! latency and failures, and the security events only the store sees
//! (a refresh token reused after rotation, families revoked).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tower_simplejwt::clock::SharedClock;
use tower_simplejwt::config::ReusePolicy;
use tower_simplejwt::store::{
    BlacklistOutcome, BoxFuture, RecordedToken, Refusal, Rotation, RotationOutcome, StoreError,
    TokenState, TokenStore,
};

use crate::metrics::names;

/// A [`TokenStore`] that forwards every call to `inner` and records it.
#[derive(Debug, Clone)]
pub struct TimedStore {
    inner: Arc<dyn TokenStore>,
}

impl TimedStore {
    /// Measures `inner`.
    pub fn new(inner: Arc<dyn TokenStore>) -> Self {
        TimedStore { inner }
    }
}

impl TokenStore for TimedStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(timed("record", self.inner.record(token)))
    }

    fn rotate(
        &self,
        rotation: Rotation,
        clock: SharedClock,
    ) -> BoxFuture<'_, Result<RotationOutcome, StoreError>> {
        let revokes_family = rotation.rules.reuse_policy == ReusePolicy::RevokeFamily;
        Box::pin(async move {
            let outcome = timed("rotate", self.inner.rotate(rotation, clock)).await;
            if let Ok(RotationOutcome::Refused(Refusal::Reused)) = outcome {
                metrics::counter!(names::REUSE_DETECTED).increment(1);
                if revokes_family {
                    metrics::counter!(names::FAMILIES_REVOKED, "cause" => "reuse").increment(1);
                }
            }
            outcome
        })
    }

    fn blacklist(
        &self,
        token: RecordedToken,
    ) -> BoxFuture<'_, Result<BlacklistOutcome, StoreError>> {
        Box::pin(async move {
            let outcome = timed("blacklist", self.inner.blacklist(token)).await;
            if let Ok(BlacklistOutcome::Blacklisted) = outcome {
                metrics::counter!(names::FAMILIES_REVOKED, "cause" => "logout").increment(1);
            }
            outcome
        })
    }

    fn state<'a>(
        &'a self,
        subject: &'a str,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<TokenState, StoreError>> {
        Box::pin(timed("state", self.inner.state(subject, jti)))
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let revoked = timed("revoke_subject", self.inner.revoke_subject(subject)).await;
            if let Ok(families) = revoked {
                metrics::counter!(names::FAMILIES_REVOKED, "cause" => "subject")
                    .increment(families);
            }
            revoked
        })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let purged = timed("purge_expired", self.inner.purge_expired(now)).await;
            if let Ok(records) = purged {
                metrics::counter!(names::RECORDS_PURGED).increment(records);
            }
            purged
        })
    }

    fn erase_ended_windows(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(timed(
            "erase_ended_windows",
            self.inner.erase_ended_windows(now),
        ))
    }
}

/// Runs `call`, recording its latency and, when it fails, a store error.
async fn timed<T>(
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = call.await;
    metrics::histogram!(names::STORE_SECONDS, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    if result.is_err() {
        metrics::counter!(names::STORE_ERRORS, "operation" => operation).increment(1);
    }
    result
}
