use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::clock::ManualClock;

/// Users by id, changed by the test, counting the lookups that reach it.
#[derive(Debug, Default)]
struct CountingUsers {
    users: Mutex<HashMap<String, Subject>>,
    lookups: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
    /// Answers `subject_now` too, as stores that read in place do.
    in_place: std::sync::atomic::AtomicBool,
}

impl CountingUsers {
    fn set(&self, id: &str, is_active: bool) {
        let subject = Subject::new(id, format!("user {id}"), is_active);
        lock(&self.users).insert(id.to_owned(), subject);
    }

    fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl Authenticator for Arc<CountingUsers> {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        let found = lock(&self.users)
            .values()
            .find(|subject| subject.username == username && password == "right")
            .cloned();
        Box::pin(async move { Ok(found) })
    }

    fn subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let answer = match self.down.load(Ordering::SeqCst) {
            true => Err(UserStoreError::unavailable("down")),
            false => Ok(lock(&self.users).get(id).cloned()),
        };
        Box::pin(async move { answer })
    }

    fn subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
        if !self.in_place.load(Ordering::SeqCst) {
            return None;
        }
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Some(match self.down.load(Ordering::SeqCst) {
            true => Err(UserStoreError::unavailable("down")),
            false => Ok(lock(&self.users).get(id).cloned()),
        })
    }
}

fn cache(
    lifetime: u64,
) -> (
    SubjectCache<Arc<CountingUsers>>,
    Arc<CountingUsers>,
    ManualClock,
) {
    let users = Arc::new(CountingUsers::default());
    users.set("1", true);
    let clock = ManualClock::new(1_000);
    let cache = SubjectCache::new(users.clone(), Duration::from_secs(lifetime))
        .with_clock(Arc::new(clock.clone()));
    (cache, users, clock)
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn subjects_an_inner_store_answers_in_place_are_remembered_too() {
    let (cache, users, clock) = cache(5);
    users.in_place.store(true, Ordering::SeqCst);
    users.set("2", true);
    for _ in 0..3 {
        assert_eq!(cache.subject_now("1").unwrap().unwrap().unwrap().id, "1");
    }
    assert_eq!(users.lookups(), 1);
    // Unknown ids and failures are asked again every time.
    assert_eq!(cache.subject_now("9").unwrap().unwrap(), None);
    assert_eq!(cache.subject_now("9").unwrap().unwrap(), None);
    assert_eq!(users.lookups(), 3);
    users.down.store(true, Ordering::SeqCst);
    assert!(cache.subject_now("2").unwrap().is_err());
    users.down.store(false, Ordering::SeqCst);
    assert!(cache.subject_now("2").unwrap().unwrap().is_some());
    assert_eq!(users.lookups(), 5);
    // The lifetime holds as for subjects awaited.
    users.set("1", false);
    clock.advance(Duration::from_secs(4));
    assert!(cache.subject_now("1").unwrap().unwrap().unwrap().is_active);
    clock.advance(Duration::from_secs(1));
    assert!(!cache.subject_now("1").unwrap().unwrap().unwrap().is_active);
    assert_eq!(users.lookups(), 6);
}

#[test]
fn a_subject_found_is_answered_from_memory_until_its_lifetime_ends() {
    let (cache, users, clock) = cache(5);
    assert!(cache.subject_now("1").is_none(), "nothing remembered yet");
    let first = block_on(cache.subject("1")).unwrap().unwrap();
    assert_eq!(users.lookups(), 1);
    users.set("1", false);
    clock.advance(Duration::from_secs(4));
    assert_eq!(
        cache.subject_now("1").unwrap().unwrap(),
        Some(first.clone())
    );
    assert_eq!(block_on(cache.subject("1")).unwrap(), Some(first));
    assert_eq!(users.lookups(), 1, "answered from memory");
    clock.advance(Duration::from_secs(1));
    assert!(cache.subject_now("1").is_none(), "expired");
    let fresh = block_on(cache.subject("1")).unwrap().unwrap();
    assert!(
        !fresh.is_active,
        "the store's new answer once the lifetime is over"
    );
    assert_eq!(users.lookups(), 2);
}

#[test]
fn forget_makes_the_next_lookup_ask_the_store() {
    let (cache, users, _clock) = cache(60);
    block_on(cache.subject("1")).unwrap();
    users.set("1", false);
    cache.forget("1");
    assert!(!block_on(cache.subject("1")).unwrap().unwrap().is_active);
    users.set("1", true);
    cache.forget_all();
    assert!(block_on(cache.subject("1")).unwrap().unwrap().is_active);
    assert_eq!(users.lookups(), 3);
}

#[test]
fn unknown_ids_and_store_errors_are_not_remembered() {
    let (cache, users, _clock) = cache(60);
    assert_eq!(block_on(cache.subject("2")).unwrap(), None);
    users.set("2", true);
    assert!(block_on(cache.subject("2")).unwrap().is_some());
    users.down.store(true, Ordering::SeqCst);
    assert!(block_on(cache.subject("3")).is_err());
    users.down.store(false, Ordering::SeqCst);
    users.set("3", true);
    assert!(block_on(cache.subject("3")).unwrap().is_some());
    assert_eq!(users.lookups(), 4);
}

#[test]
fn a_login_remembers_its_subject() {
    let (cache, users, _clock) = cache(60);
    let alice = block_on(cache.authenticate("user 1", "right")).unwrap();
    assert_eq!(cache.subject_now("1").unwrap().unwrap(), alice);
    assert_eq!(
        block_on(cache.authenticate("user 1", "wrong")).unwrap(),
        None
    );
    assert_eq!(users.lookups(), 0);
}

#[test]
fn a_zero_lifetime_or_capacity_remembers_nothing() {
    for cache in [cache(0).0, cache(60).0.with_capacity(0)] {
        block_on(cache.subject("1")).unwrap();
        assert!(cache.subject_now("1").is_none());
        assert_eq!(cache.remembered.len(), 0);
    }
}

#[test]
fn the_capacity_bounds_what_is_remembered() {
    let (cache, users, clock) = cache(60);
    let cache = cache.with_capacity(32);
    for id in 0..1_000 {
        users.set(&id.to_string(), true);
        block_on(cache.subject(&id.to_string())).unwrap();
        assert!(cache.remembered.len() <= 32);
    }
    // Expired subjects make room before the newer ones are dropped.
    clock.advance(Duration::from_secs(60));
    block_on(cache.subject("1")).unwrap();
    assert!(cache.remembered.len() <= 32);
    assert_eq!(cache.subject_now("1").unwrap().unwrap().unwrap().id, "1");
}
