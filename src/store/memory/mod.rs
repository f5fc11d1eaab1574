//! The in-process token store.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use super::{
    BlacklistOutcome, BoxFuture, RecordedToken, Rotation, RotationOutcome, StoreError, TokenState,
    TokenStore,
};
use crate::clock::SharedClock;
use crate::lock::lock;

mod shard;
#[cfg(test)]
mod tests;

use shard::{Record, Shard, State, Used};

const SHARDS: usize = 64;

/// An in-process token store: fast, and gone with the process.
///
/// Records are sharded by subject, so a rotation locks one shard of 64 and
/// never waits on other users' traffic. Use it for tests, single-process
/// deployments that accept a logout on restart, or as a cache in front of a
/// persistent store. Being in-process, it is atomic only within one process.
///
/// A family and all its tokens live in their subject's shard, and every
/// operation on them (rotation, revocation, logout) holds that shard's lock
/// from its first read to its last write: a revocation and a rotation of
/// one family can only follow each other, and whichever comes second sees
/// the first. Revoking a family flips one flag (no walk over its tokens).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::{MemoryTokenStore, RecordedToken, TokenState, TokenStore, CLOCK_SKEW_MARGIN};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryTokenStore::new();
/// store.record(RecordedToken::new("j1", "1", 100)).await.unwrap();
/// assert_eq!(store.purge_expired(100).await.unwrap(), 0, "kept past exp for clock skew");
/// assert_eq!(store.purge_expired(100 + CLOCK_SKEW_MARGIN.as_secs()).await.unwrap(), 1);
/// assert_eq!(store.state("1", "j1").await.unwrap(), TokenState::Unknown);
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryTokenStore {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryTokenStore {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
        }
    }

    pub(super) fn hash(&self, text: &str) -> u64 {
        self.hasher.hash_one(text)
    }

    fn shard(&self, subject: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hash(subject) % SHARDS as u64) as usize;
        lock(&self.shards[index])
    }

    /// Number of token records held (for tests and measurements).
    #[doc(hidden)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let shard = lock(shard);
                shard.hex.len() + shard.text.len()
            })
            .sum()
    }

    /// Whether the store holds no record.
    #[doc(hidden)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `rotations` past rotations of one family of `subject` at once,
    /// ending with `current` active (for benchmarks of revocation); returns
    /// the `jti` of the first past rotation.
    #[doc(hidden)]
    pub fn record_rotated_family(&self, current: &RecordedToken, rotations: u64) -> String {
        let base = u128::from(rand::random::<u64>()) << 64;
        let family = self.hash(&current.jti);
        let subject = self.hash(&current.subject);
        let keep_until = current.retained_until();
        let mut shard = self.shard(&current.subject);
        for index in 0..rotations {
            let record = Record {
                family,
                subject,
                keep_until,
                state: Used::without_successor(0),
            };
            shard.insert(&format!("{:032x}", base | u128::from(index)), record);
        }
        shard.insert_active(&current.jti, family, subject, keep_until);
        format!("{base:032x}")
    }
}

impl MemoryTokenStore {
    /// Puts a family back as it was before a reuse revoked it: `token` used,
    /// its family not revoked (for benchmarks of revocation).
    #[doc(hidden)]
    pub fn reinstate_used(&self, token: &RecordedToken) {
        let mut shard = self.shard(&token.subject);
        let family = shard.get_mut(&token.jti).map(|record| {
            record.state = Used::without_successor(0);
            record.family
        });
        if let Some(family) = family.and_then(|family| shard.families.get_mut(&family)) {
            family.revoked = false;
        }
    }
}

impl TokenStore for MemoryTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        let family = self.hash(&token.jti);
        let subject = self.hash(&token.subject);
        let keep_until = token.retained_until();
        let mut shard = self.shard(&token.subject);
        shard.insert_active(&token.jti, family, subject, keep_until);
        Box::pin(async { Ok(()) })
    }

    fn rotate(
        &self,
        rotation: Rotation,
        clock: SharedClock,
    ) -> BoxFuture<'_, Result<RotationOutcome, StoreError>> {
        let outcome = {
            let mut shard = self.shard(&rotation.presented.subject);
            let now = clock.now();
            shard.rotate(self, rotation, now)
        };
        Box::pin(async move { Ok(outcome) })
    }

    fn blacklist(
        &self,
        token: RecordedToken,
    ) -> BoxFuture<'_, Result<BlacklistOutcome, StoreError>> {
        let subject = self.hash(&token.subject);
        let keep_until = token.retained_until();
        let mut shard = self.shard(&token.subject);
        let outcome = if shard.get(&token.jti).is_some() {
            shard.log_out(&token.jti, subject, keep_until)
        } else {
            let record = Record {
                family: self.hash(&token.jti),
                subject,
                keep_until,
                state: State::Blacklisted,
            };
            shard.insert(&token.jti, record);
            BlacklistOutcome::Blacklisted
        };
        Box::pin(async move { Ok(outcome) })
    }

    fn state<'a>(
        &'a self,
        subject: &'a str,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<TokenState, StoreError>> {
        let subject_hash = self.hash(subject);
        let shard = self.shard(subject);
        let state = match shard
            .get(jti)
            .filter(|record| record.subject == subject_hash)
        {
            None => TokenState::Unknown,
            Some(record) => {
                let state = match record.state {
                    State::Active => TokenState::Active,
                    State::Used(_) => TokenState::Used,
                    State::Blacklisted => TokenState::Blacklisted,
                };
                state.in_family(shard.family_revoked(record.family))
            }
        };
        Box::pin(async move { Ok(state) })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        let subject_hash = self.hash(subject);
        let mut shard = self.shard(subject);
        let mut revoked = 0;
        for family in shard.families.values_mut() {
            if family.subject == subject_hash && !family.revoked {
                family.revoked = true;
                revoked += 1;
            }
        }
        Box::pin(async move { Ok(revoked) })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let purged = self.shards.iter().map(|shard| lock(shard).purge(now)).sum();
        Box::pin(async move { Ok(purged) })
    }

    fn erase_ended_windows(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let erased = self
            .shards
            .iter()
            .map(|shard| lock(shard).erase_ended_windows(now))
            .sum();
        Box::pin(async move { Ok(erased) })
    }
}
