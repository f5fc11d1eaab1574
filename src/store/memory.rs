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
use crate::lock::lock;

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

/// One shard's records. Our `jti`s (32 lowercase hex digits) are kept as
/// 16-byte keys; any other `jti` (a foreign token's) as text. Subjects and
/// families are kept as keyed 64-bit hashes: a record is then 64 bytes, and
/// a million outstanding refresh tokens fit in about 130 MiB.
#[derive(Debug, Default)]
struct Shard {
    hex: HashMap<u128, Record>,
    text: HashMap<Box<str>, Record>,
}

#[derive(Debug)]
struct Record {
    /// Keyed hash of the family's first `jti`.
    family: u64,
    /// Keyed hash of the subject.
    subject: u64,
    expires_at: u64,
    state: State,
}

#[derive(Debug)]
enum State {
    Active,
    Used(Box<Used>),
    Blacklisted,
}

#[derive(Debug)]
struct Used {
    successor_token: Box<str>,
    rotated_at: u64,
}

/// A `jti` as a key of the shard's maps.
enum Key<'a> {
    Hex(u128),
    Text(&'a str),
}

impl<'a> Key<'a> {
    fn of(jti: &'a str) -> Self {
        let hex = jti.len() == 32
            && jti
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        match hex.then(|| u128::from_str_radix(jti, 16).ok()).flatten() {
            Some(value) => Key::Hex(value),
            None => Key::Text(jti),
        }
    }
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

    fn hash(&self, text: &str) -> u64 {
        self.hasher.hash_one(text)
    }

    fn shard(&self, subject: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hash(subject) % SHARDS as u64) as usize;
        lock(&self.shards[index])
    }

    /// The record of `token` (subject and family hashed).
    fn record_of(&self, token: &RecordedToken, family: &str, state: State) -> Record {
        Record {
            family: self.hash(family),
            subject: self.hash(&token.subject),
            expires_at: token.expires_at,
            state,
        }
    }

    /// Number of records held (for tests and measurements).
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
}

impl Shard {
    fn get(&self, jti: &str) -> Option<&Record> {
        match Key::of(jti) {
            Key::Hex(key) => self.hex.get(&key),
            Key::Text(key) => self.text.get(key),
        }
    }

    fn get_mut(&mut self, jti: &str) -> Option<&mut Record> {
        match Key::of(jti) {
            Key::Hex(key) => self.hex.get_mut(&key),
            Key::Text(key) => self.text.get_mut(key),
        }
    }

    fn insert(&mut self, jti: &str, record: Record) {
        match Key::of(jti) {
            Key::Hex(key) => self.hex.insert(key, record),
            Key::Text(key) => self.text.insert(key.into(), record),
        };
    }

    fn records_mut(&mut self) -> impl Iterator<Item = &mut Record> {
        self.hex.values_mut().chain(self.text.values_mut())
    }

    /// Blacklists every record of the family; reuse is rare, so a scan of
    /// the shard is cheaper than an index kept on every rotation.
    fn revoke_family(&mut self, family: u64) -> u64 {
        let mut revoked = 0;
        for record in self.records_mut().filter(|record| record.family == family) {
            if !matches!(record.state, State::Blacklisted) {
                record.state = State::Blacklisted;
                revoked += 1;
            }
        }
        revoked
    }

    fn rotate(
        &mut self,
        store: &MemoryTokenStore,
        rotation: Rotation,
        now: u64,
    ) -> RotationOutcome {
        let Rotation {
            presented,
            successor,
            successor_token,
            rules,
        } = rotation;
        let stored = self.get(&presented.jti).map(|record| match &record.state {
            State::Active => Stored::Active,
            State::Used(used) => Stored::Used {
                successor_token: &used.successor_token,
                rotated_at: used.rotated_at,
            },
            State::Blacklisted => Stored::Blacklisted,
        });
        match next_step(stored, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(successor_token) => RotationOutcome::Replayed { successor_token },
            Step::Reuse { revoke_family } => {
                let mut revoked = 0;
                let mut family = 0;
                if let Some(record) = self.get_mut(&presented.jti) {
                    record.state = State::Blacklisted;
                    family = record.family;
                }
                if revoke_family {
                    revoked = self.revoke_family(family);
                }
                warn_reuse(
                    &presented.jti,
                    &presented.subject,
                    &format!("{family:016x}"),
                    revoked,
                );
                RotationOutcome::Refused(Refusal::Reused)
            }
            step @ (Step::AdoptAndRotate | Step::Rotate) => {
                if step == Step::AdoptAndRotate {
                    let record = store.record_of(&presented, &presented.jti, State::Active);
                    self.insert(&presented.jti, record);
                }
                let Some(record) = self.get_mut(&presented.jti) else {
                    return RotationOutcome::Refused(Refusal::Unrecorded);
                };
                let family = record.family;
                if rules.blacklist_after_rotation {
                    record.state = State::Used(Box::new(Used {
                        successor_token: successor_token.into(),
                        rotated_at: now,
                    }));
                }
                let mut successor_record = store.record_of(&successor, "", State::Active);
                successor_record.family = family;
                self.insert(&successor.jti, successor_record);
                RotationOutcome::Rotated
            }
        }
    }
}

impl TokenStore for MemoryTokenStore {
    fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
        let record = self.record_of(&token, &token.jti, State::Active);
        self.shard(&token.subject).insert(&token.jti, record);
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
        let mut shard = self.shard(&token.subject);
        let outcome = match shard.get_mut(&token.jti) {
            Some(record) => match record.state {
                State::Active => {
                    record.state = State::Blacklisted;
                    BlacklistOutcome::Blacklisted
                }
                State::Used(_) | State::Blacklisted => BlacklistOutcome::AlreadyBlacklisted,
            },
            None => {
                let record = self.record_of(&token, &token.jti, State::Blacklisted);
                shard.insert(&token.jti, record);
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
        let subject_hash = self.hash(subject);
        let shard = self.shard(subject);
        let state = match shard
            .get(jti)
            .filter(|record| record.subject == subject_hash)
            .map(|record| &record.state)
        {
            None => TokenState::Unknown,
            Some(State::Active) => TokenState::Active,
            Some(State::Used(_)) => TokenState::Used,
            Some(State::Blacklisted) => TokenState::Blacklisted,
        };
        Box::pin(async move { Ok(state) })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        let subject_hash = self.hash(subject);
        let mut shard = self.shard(subject);
        let mut revoked = 0;
        for record in shard.records_mut() {
            if record.subject == subject_hash && matches!(record.state, State::Active) {
                record.state = State::Blacklisted;
                revoked += 1;
            }
        }
        Box::pin(async move { Ok(revoked) })
    }

    fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut purged = 0;
        for shard in &self.shards {
            let mut shard = lock(shard);
            let before = shard.hex.len() + shard.text.len();
            shard.hex.retain(|_, record| record.expires_at > now);
            shard.text.retain(|_, record| record.expires_at > now);
            shard.hex.shrink_to_fit();
            shard.text.shrink_to_fit();
            purged += (before - shard.hex.len() - shard.text.len()) as u64;
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

    #[test]
    fn keys_of_our_jtis_and_foreign_ones_never_collide() {
        assert!(matches!(
            Key::of("0123456789abcdef0123456789abcdef"),
            Key::Hex(_)
        ));
        for foreign in [
            "0123456789ABCDEF0123456789ABCDEF",
            "+123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "j1",
        ] {
            assert!(matches!(Key::of(foreign), Key::Text(_)), "{foreign}");
        }
        assert_eq!(std::mem::size_of::<(u128, Record)>(), 64);
    }
}
