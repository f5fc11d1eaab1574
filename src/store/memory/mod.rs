use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use super::rules::{next_step, successor_until, Step, Stored};
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

/// One shard's records. Our `jti`s (32 lowercase hex digits) are kept as
/// 16-byte keys; any other `jti` (a foreign token's) as text. Subjects and
/// families are kept as keyed 64-bit hashes.
#[derive(Debug, Default)]
struct Shard {
    hex: HashMap<u128, Record>,
    text: HashMap<Box<str>, Record>,
    /// Families by keyed hash of their first `jti`.
    families: HashMap<u64, Family>,
}

#[derive(Debug)]
struct Record {
    /// Keyed hash of the family's first `jti`.
    family: u64,
    /// Keyed hash of the subject.
    subject: u64,
    /// [`RecordedToken::retained_until`].
    keep_until: u64,
    state: State,
}

#[derive(Debug)]
struct Family {
    /// Keyed hash of the subject.
    subject: u64,
    revoked: bool,
    /// The latest `keep_until` of its tokens.
    keep_until: u64,
}

#[derive(Debug)]
enum State {
    Active,
    Used(Box<Used>),
    Blacklisted,
}

#[derive(Debug)]
struct Used {
    /// The sealed successor and the end of its window.
    sealed_successor: Option<(Box<str>, u64)>,
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
                state: State::Used(Box::new(Used {
                    sealed_successor: None,
                    rotated_at: 0,
                })),
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
            record.state = State::Used(Box::new(Used {
                sealed_successor: None,
                rotated_at: 0,
            }));
            record.family
        });
        if let Some(family) = family.and_then(|family| shard.families.get_mut(&family)) {
            family.revoked = false;
        }
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

    /// Creates the family if missing and keeps it at least until `keep_until`.
    fn insert_family(&mut self, family: u64, subject: u64, keep_until: u64) {
        let entry = self.families.entry(family).or_insert(Family {
            subject,
            revoked: false,
            keep_until,
        });
        entry.keep_until = entry.keep_until.max(keep_until);
    }

    /// Records `jti` as an active token of `family`, keeping both at least until `keep_until`.
    fn insert_active(&mut self, jti: &str, family: u64, subject: u64, keep_until: u64) {
        self.insert_family(family, subject, keep_until);
        let record = Record {
            family,
            subject,
            keep_until,
            state: State::Active,
        };
        self.insert(jti, record);
    }

    fn family_revoked(&self, family: u64) -> bool {
        self.families
            .get(&family)
            .is_some_and(|family| family.revoked)
    }

    /// Revokes the family: one flag, whatever its length. Returns whether it was not revoked before.
    fn revoke_family(&mut self, family: u64, subject: u64, keep_until: u64) -> bool {
        self.insert_family(family, subject, keep_until);
        match self.families.get_mut(&family) {
            Some(entry) => !std::mem::replace(&mut entry.revoked, true),
            None => false,
        }
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
            sealed_successor,
            rules,
        } = rotation;
        let subject = store.hash(&presented.subject);
        let record = self.get(&presented.jti);
        let family_revoked = record.is_some_and(|record| self.family_revoked(record.family));
        let stored = record.map(|record| match &record.state {
            State::Active => Stored::Active,
            State::Used(used) => Stored::Used {
                sealed_successor: used
                    .sealed_successor
                    .as_ref()
                    .filter(|(_, until)| now < *until)
                    .map(|(sealed, _)| &**sealed),
                rotated_at: used.rotated_at,
            },
            State::Blacklisted => Stored::Blacklisted,
        });
        match next_step(stored, family_revoked, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(sealed_successor) => RotationOutcome::Replayed { sealed_successor },
            Step::Reuse { revoke_family } => {
                let mut family = 0;
                let mut keep_until = presented.retained_until();
                if let Some(record) = self.get_mut(&presented.jti) {
                    record.state = State::Blacklisted;
                    family = record.family;
                    keep_until = keep_until.max(record.keep_until);
                }
                let revoked = revoke_family && self.revoke_family(family, subject, keep_until);
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
                    let family = store.hash(&presented.jti);
                    let keep_until = presented.retained_until();
                    self.insert_active(&presented.jti, family, subject, keep_until);
                }
                let Some(record) = self.get_mut(&presented.jti) else {
                    return RotationOutcome::Refused(Refusal::Unrecorded);
                };
                let family = record.family;
                if rules.blacklist_after_rotation {
                    let until = successor_until(&rules, sealed_successor.as_deref(), now);
                    record.state = State::Used(Box::new(Used {
                        sealed_successor: sealed_successor
                            .zip(until)
                            .map(|(sealed, until)| (sealed.into(), until)),
                        rotated_at: now,
                    }));
                }
                let keep_until = successor.retained_until();
                self.insert_active(&successor.jti, family, subject, keep_until);
                RotationOutcome::Rotated
            }
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
        let revoked_family = shard
            .get(&token.jti)
            .map(|record| (record.family, shard.family_revoked(record.family)));
        let outcome = match revoked_family {
            Some((family, false)) => {
                let logged_out = shard.get_mut(&token.jti).is_some_and(|record| {
                    let active = matches!(record.state, State::Active);
                    if active {
                        record.state = State::Blacklisted;
                    }
                    active
                });
                if logged_out {
                    shard.revoke_family(family, subject, keep_until);
                    BlacklistOutcome::Blacklisted
                } else {
                    BlacklistOutcome::AlreadyBlacklisted
                }
            }
            Some((_, true)) => BlacklistOutcome::AlreadyBlacklisted,
            None => {
                let record = Record {
                    family: self.hash(&token.jti),
                    subject,
                    keep_until,
                    state: State::Blacklisted,
                };
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
        let mut purged = 0;
        for shard in &self.shards {
            let mut shard = lock(shard);
            let before = shard.hex.len() + shard.text.len();
            shard.hex.retain(|_, record| record.keep_until > now);
            shard.text.retain(|_, record| record.keep_until > now);
            shard.families.retain(|_, family| family.keep_until > now);
            let Shard { hex, text, .. } = &mut *shard;
            for record in hex.values_mut().chain(text.values_mut()) {
                if let State::Used(used) = &mut record.state {
                    if used
                        .sealed_successor
                        .as_ref()
                        .is_some_and(|(_, until)| *until <= now)
                    {
                        used.sealed_successor = None;
                    }
                }
            }
            shard.hex.shrink_to_fit();
            shard.text.shrink_to_fit();
            shard.families.shrink_to_fit();
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

    /// No await inside the shard lock: a revocation comes wholly before or
    /// after a rotation, and both orders are checked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revocation_interleaved_with_rotation() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        crate::store::conformance::interleavings(store.clone(), |_| store.clone(), &[], None).await;
    }

    #[tokio::test]
    async fn revoking_a_family_is_one_flag_whatever_its_length() {
        let store = MemoryTokenStore::new();
        let current = RecordedToken::new("c".repeat(32), "1", 1_000);
        let first = store.record_rotated_family(&current, 10_000);
        assert_eq!(store.len(), 10_001);
        assert_eq!(store.state("1", &first).await.unwrap(), TokenState::Used);
        {
            let mut shard = store.shard("1");
            let family = store.hash(&current.jti);
            assert!(shard.revoke_family(family, store.hash("1"), 1_000));
            assert_eq!(shard.families.len(), 1, "one family record");
        }
        assert_eq!(
            store.state("1", &current.jti).await.unwrap(),
            TokenState::Blacklisted,
            "the flag blacklists the current token"
        );
        assert_eq!(
            store.state("1", &first).await.unwrap(),
            TokenState::Blacklisted
        );
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
