use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::UserStoreError;
use super::{Authenticator, Subject};
use crate::clock::{SharedClock, SystemClock};
use crate::future::BoxFuture;
use crate::lock::lock;

/// How many locks the remembered subjects are spread over.
const SHARDS: usize = 16;

/// The number of subjects remembered when no capacity is given.
const DEFAULT_CAPACITY: usize = 10_000;

/// An [`Authenticator`] that remembers the subjects another one looks up,
/// for a fixed time, so that a protected route does not query the user
/// store on every request.
///
/// The authentication layer and the refresh endpoint ask for the subject of
/// every token they accept, to refuse deleted and inactive users (as DRF's
/// `JWTAuthentication` does with one database query per request). With a
/// database behind the authenticator, that query can cost more than
/// everything else the request does. Wrapped in a `SubjectCache`, a subject
/// found in the store is answered from memory until `lifetime` has passed.
///
/// The price is staleness: a user deactivated or deleted in the store keeps
/// access for at most `lifetime` (less when [`forget`](Self::forget) is
/// called on the change). Keep it to seconds. Without the cache, every
/// request sees the store's current answer.
///
/// What is remembered:
/// - subjects found, active or not, with the time they were read (a login
///   remembers the subject it returns);
/// - never an unknown id or a store error: those are asked again each time;
/// - at most `capacity` subjects: a full part of the cache first drops its
///   expired subjects, then all of its subjects.
///
/// Time is read from the [`Clock`](crate::clock::Clock) given with
/// [`with_clock`](Self::with_clock), in whole seconds: a subject read at
/// second `t` is answered from memory until second `t + lifetime`, and a
/// lifetime under one second remembers nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tower_simplejwt::credentials::{
///     Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, SubjectCache, UserStore,
/// };
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let users = MemoryUserStore::new();
/// users.create("alice", "unused", true).await.unwrap();
/// let authenticator = SubjectCache::new(
///     PasswordAuthenticator::new(users, PasswordHasher::default()),
///     Duration::from_secs(5),
/// );
/// let alice = authenticator.subject("1").await.unwrap().unwrap();
/// assert_eq!(alice.username, "alice");
/// // Asked again within five seconds, the subject comes from memory.
/// assert_eq!(authenticator.subject_now("1").unwrap().unwrap(), Some(alice));
/// // After a change in the store, forget what was read before it.
/// authenticator.forget("1");
/// # });
/// ```
pub struct SubjectCache<A> {
    inner: A,
    remembered: Arc<Remembered>,
}

struct Remembered {
    lifetime: u64,
    per_shard: usize,
    clock: SharedClock,
    hasher: foldhash::fast::RandomState,
    shards: Box<[Mutex<Shard>]>,
}

/// Subjects by id, in one part of the cache.
type Shard = HashMap<Box<str>, Entry, foldhash::fast::RandomState>;

struct Entry {
    subject: Subject,
    /// The first second at which the entry is no longer answered.
    until: u64,
}

impl<A: Authenticator> SubjectCache<A> {
    /// Remembers the subjects `inner` finds for `lifetime` (whole seconds),
    /// at most 10 000 of them, timed by the system clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, SubjectCache};
    ///
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// let cached = SubjectCache::new(authenticator, Duration::from_secs(5));
    /// # let _ = cached;
    /// ```
    pub fn new(inner: A, lifetime: Duration) -> Self {
        SubjectCache {
            inner,
            remembered: Arc::new(Remembered::empty(
                lifetime.as_secs(),
                DEFAULT_CAPACITY.div_ceil(SHARDS),
                Arc::new(SystemClock),
            )),
        }
    }

    /// Remembers at most about `capacity` subjects (rounded up to a multiple
    /// of 16); 0 remembers none. Forgets what was remembered so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, SubjectCache};
    ///
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// let cached = SubjectCache::new(authenticator, Duration::from_secs(5)).with_capacity(1_000);
    /// # let _ = cached;
    /// ```
    pub fn with_capacity(self, capacity: usize) -> Self {
        self.rebuilt(|remembered| remembered.per_shard = capacity.div_ceil(SHARDS))
    }

    /// Reads the time from `clock` (tests pass a
    /// [`ManualClock`](crate::clock::ManualClock)). Forgets what was
    /// remembered so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_simplejwt::clock::ManualClock;
    /// use tower_simplejwt::credentials::{Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, SubjectCache, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let users = MemoryUserStore::new();
    /// users.create("alice", "unused", true).await.unwrap();
    /// let clock = ManualClock::new(1_000);
    /// let cached = SubjectCache::new(PasswordAuthenticator::new(users, PasswordHasher::default()), Duration::from_secs(5))
    ///     .with_clock(Arc::new(clock.clone()));
    /// cached.subject("1").await.unwrap();
    /// assert!(cached.subject_now("1").is_some(), "remembered");
    /// # });
    /// ```
    pub fn with_clock(self, clock: SharedClock) -> Self {
        self.rebuilt(|remembered| remembered.clock = clock)
    }

    fn rebuilt(self, change: impl FnOnce(&mut Remembered)) -> Self {
        let mut remembered = Remembered::empty(
            self.remembered.lifetime,
            self.remembered.per_shard,
            self.remembered.clock.clone(),
        );
        change(&mut remembered);
        SubjectCache {
            inner: self.inner,
            remembered: Arc::new(remembered),
        }
    }

    /// The wrapped authenticator.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, SubjectCache};
    ///
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// let cached = SubjectCache::new(authenticator, Duration::from_secs(5));
    /// assert_eq!(cached.inner().login_limit().max_in_flight(), 256);
    /// ```
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Forgets the subject with this id: the next lookup asks the wrapped
    /// authenticator. Call it when a user is changed, deactivated or deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::credentials::{Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, SubjectCache, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let users = MemoryUserStore::new();
    /// users.create("alice", "unused", true).await.unwrap();
    /// let cached = SubjectCache::new(PasswordAuthenticator::new(users, PasswordHasher::default()), Duration::from_secs(60));
    /// assert!(cached.subject("1").await.unwrap().unwrap().is_active);
    /// // alice is deactivated in the store: forget what was read before.
    /// cached.forget("1");
    /// # });
    /// ```
    pub fn forget(&self, id: &str) {
        self.remembered.shard(id).remove(id);
    }

    /// Forgets every subject.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, SubjectCache};
    ///
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// let cached = SubjectCache::new(authenticator, Duration::from_secs(5));
    /// cached.forget_all();
    /// ```
    pub fn forget_all(&self) {
        for shard in self.remembered.shards.iter() {
            lock(shard).clear();
        }
    }
}

impl Remembered {
    fn empty(lifetime: u64, per_shard: usize, clock: SharedClock) -> Self {
        Remembered {
            lifetime,
            per_shard,
            clock,
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, id: &str) -> MutexGuard<'_, Shard> {
        let index = self.hasher.hash_one(id) as usize % SHARDS;
        lock(&self.shards[index])
    }

    fn get(&self, id: &str) -> Option<Subject> {
        let now = self.clock.now();
        self.shard(id)
            .get(id)
            .filter(|entry| now < entry.until)
            .map(|entry| entry.subject.clone())
    }

    fn remember(&self, subject: &Subject) {
        if self.lifetime == 0 || self.per_shard == 0 {
            return;
        }
        let now = self.clock.now();
        let mut shard = self.shard(&subject.id);
        if shard.len() >= self.per_shard && !shard.contains_key(subject.id.as_str()) {
            shard.retain(|_, entry| now < entry.until);
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        shard.insert(
            subject.id.as_str().into(),
            Entry {
                subject: subject.clone(),
                until: now.saturating_add(self.lifetime),
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}

impl<A: Authenticator> Authenticator for SubjectCache<A> {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        Box::pin(async move {
            let found = self.inner.authenticate(username, password).await?;
            if let Some(subject) = &found {
                self.remembered.remember(subject);
            }
            Ok(found)
        })
    }

    fn subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        Box::pin(async move {
            if let Some(subject) = self.remembered.get(id) {
                return Ok(Some(subject));
            }
            let found = self.inner.subject(id).await?;
            if let Some(subject) = &found {
                self.remembered.remember(subject);
            }
            Ok(found)
        })
    }

    fn subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
        if let Some(subject) = self.remembered.get(id) {
            return Some(Ok(Some(subject)));
        }
        let found = self.inner.subject_now(id)?;
        if let Ok(Some(subject)) = &found {
            self.remembered.remember(subject);
        }
        Some(found)
    }
}

impl<A: Clone> Clone for SubjectCache<A> {
    /// A clone shares the remembered subjects.
    fn clone(&self) -> Self {
        SubjectCache {
            inner: self.inner.clone(),
            remembered: self.remembered.clone(),
        }
    }
}

impl<A: fmt::Debug> fmt::Debug for SubjectCache<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectCache")
            .field("inner", &self.inner)
            .field("lifetime_seconds", &self.remembered.lifetime)
            .field("capacity", &(self.remembered.per_shard * SHARDS))
            .field("clock", &self.remembered.clock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
