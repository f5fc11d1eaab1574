use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use super::rules::{next_step, Step, Stored};
use super::{
    warn_reuse, BlacklistOutcome, BoxFuture, RecordedToken, Refusal, Rotation, RotationOutcome,
    StoreError, TokenState, TokenStore,
};
use crate::clock::SharedClock;

const SHARDS: usize = 64;

/// An in-process token store: fast, and gone with the process.
///
/// Records are sharded by subject, so a rotation locks one shard of 64 and
/// never waits on other users' traffic. Use it for tests, single-process
/// deployments that accept a logout on restart, or as a cache in front of a
/// persistent store. Being in-process, it is atomic only within one process.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::{MemoryTokenStore, RecordedToken, TokenState, TokenStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryTokenStore::new();
/// store.record(RecordedToken::new("j1", "1", 100)).await.unwrap();
/// assert_eq!(store.purge_expired(100).await.unwrap(), 1);
/// assert_eq!(store.state("1", "j1").await.unwrap(), TokenState::Unknown);
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryTokenStore {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

#[derive(Debug, Default)]
struct Shard {
    records: HashMap<String, Record>,
    /// Family id → the `jti`s in it.
    families: HashMap<String, Vec<String>>,
}

#[derive(Debug)]
struct Record {
    subject: String,
    family: String,
    expires_at: u64,
    state: State,
}

#[derive(Debug)]
enum State {
    Active,
    Used {
        successor_token: String,
        rotated_at: u64,
    },
    Blacklisted,
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

    fn shard(&self, subject: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hasher.hash_one(subject) % SHARDS as u64) as usize;
        // A poisoned lock means a panic mid-update elsewhere; the map itself is
        // still consistent (every update is a single insert or field write).
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Shard {
    fn insert(&mut self, token: RecordedToken, family: String, state: State) {
        self.families
            .entry(family.clone())
            .or_default()
            .push(token.jti.clone());
        self.records.insert(
            token.jti,
            Record {
                subject: token.subject,
                family,
                expires_at: token.expires_at,
                state,
            },
        );
    }

    fn revoke_family(&mut self, family: &str) -> u64 {
        let mut revoked = 0;
        for jti in self.families.get(family).into_iter().flatten() {
            if let Some(record) = self.records.get_mut(jti) {
                if !matches!(record.state, State::Blacklisted) {
                    record.state = State::Blacklisted;
                    revoked += 1;
                }
            }
        }
        revoked
    }

    fn rotate(&mut self, rotation: Rotation, now: u64) -> RotationOutcome {
        let Rotation {
            presented,
            successor,
            successor_token,
            rules,
        } = rotation;
        let stored = self
            .records
            .get(&presented.jti)
            .map(|record| match &record.state {
                State::Active => Stored::Active,
                State::Used {
                    successor_token,
                    rotated_at,
                } => Stored::Used {
                    successor_token,
                    rotated_at: *rotated_at,
                },
                State::Blacklisted => Stored::Blacklisted,
            });
        match next_step(stored, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(successor_token) => RotationOutcome::Replayed { successor_token },
            Step::Reuse { revoke_family } => {
                let family = self
                    .records
                    .get(&presented.jti)
                    .map(|record| record.family.clone())
                    .unwrap_or_default();
                let mut revoked = 0;
                if let Some(record) = self.records.get_mut(&presented.jti) {
                    record.state = State::Blacklisted;
                }
                if revoke_family {
                    revoked = self.revoke_family(&family);
                }
                warn_reuse(&presented.jti, &presented.subject, &family, revoked);
                RotationOutcome::Refused(Refusal::Reused)
            }
            step @ (Step::AdoptAndRotate | Step::Rotate) => {
                if step == Step::AdoptAndRotate {
                    let family = presented.jti.clone();
                    self.insert(presented.clone(), family, State::Active);
                }
                let Some(record) = self.records.get_mut(&presented.jti) else {
                    return RotationOutcome::Refused(Refusal::Unrecorded);
                };
                let family = record.family.clone();
                if rules.blacklist_after_rotation {
                    record.state = State::Used {
                        successor_token,
                        rotated_at: now,
                    };
                }
                self.insert(successor, family, State::Active);
                RotationOutcome::Rotated
            }
        }
    }
}

impl TokenStore for MemoryTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut shard = self.shard(&token.subject);
        let family = token.jti.clone();
        shard.insert(token, family, State::Active);
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
            shard.rotate(rotation, now)
        };
        Box::pin(async move { Ok(outcome) })
    }

    fn blacklist(
        &self,
        token: RecordedToken,
    ) -> BoxFuture<'_, Result<BlacklistOutcome, StoreError>> {
        let mut shard = self.shard(&token.subject);
        let outcome = match shard.records.get_mut(&token.jti) {
            Some(record) => match record.state {
                State::Active => {
                    record.state = State::Blacklisted;
                    BlacklistOutcome::Blacklisted
                }
                State::Used { .. } | State::Blacklisted => BlacklistOutcome::AlreadyBlacklisted,
            },
            None => {
                let family = token.jti.clone();
                shard.insert(token, family, State::Blacklisted);
                BlacklistOutcome::Blacklisted
            }
        };
        Box::pin(async move { Ok(outcome) })
    }

    fn state<'a>(
        &'a self,
        subject: &'a str,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<TokenState, StoreError>> {
        let shard = self.shard(subject);
        let state = match shard.records.get(jti).map(|record| &record.state) {
            None => TokenState::Unknown,
            Some(State::Active) => TokenState::Active,
            Some(State::Used { .. }) => TokenState::Used,
            Some(State::Blacklisted) => TokenState::Blacklisted,
        };
        Box::pin(async move { Ok(state) })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        let mut shard = self.shard(subject);
        let mut revoked = 0;
        for record in shard.records.values_mut() {
            if record.subject == subject && matches!(record.state, State::Active) {
                record.state = State::Blacklisted;
                revoked += 1;
            }
        }
        Box::pin(async move { Ok(revoked) })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut purged = 0;
        for shard in &self.shards {
            let mut shard = shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let Shard { records, families } = &mut *shard;
            records.retain(|_, record| {
                let keep = record.expires_at > now;
                purged += u64::from(!keep);
                keep
            });
            families.retain(|_, members| {
                members.retain(|jti| records.contains_key(jti));
                !members.is_empty()
            });
        }
        Box::pin(async move { Ok(purged) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance() {
        crate::store::conformance::run(Arc::new(MemoryTokenStore::new())).await;
    }
}
