//! A background task that erases ended grace windows and purges expired records.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::{StoreError, TokenStore};
use crate::clock::SharedClock;

/// The shortest interval a [`PurgeTask`] runs at (times are whole seconds).
const SHORTEST: Duration = Duration::from_secs(1);

/// How often a [`PurgeTask`] spawned with [`PurgeTask::spawn`] purges expired
/// records (ended grace windows are erased at its own interval).
///
/// # Examples
///
/// ```
/// assert_eq!(tower_simplejwt::store::DEFAULT_RECORDS_EVERY.as_secs(), 3600);
/// ```
pub const DEFAULT_RECORDS_EVERY: Duration = Duration::from_secs(3600);

/// When a [`PurgeTask`] runs each of its two steps.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tower_simplejwt::store::PurgeSchedule;
///
/// let schedule = PurgeSchedule::every(Duration::from_secs(5));
/// assert_eq!(schedule.windows_every, Duration::from_secs(5));
/// assert_eq!(schedule.records_every, Duration::from_secs(3600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeSchedule {
    /// How often [`TokenStore::erase_ended_windows`] runs (cheap on every
    /// backend). A sealed successor lives at most its grace window plus this
    /// interval (on Redis, which expires it itself, exactly the window).
    pub windows_every: Duration,
    /// How often [`TokenStore::purge_expired`] runs (a scan of the
    /// namespace on Redis, an index range elsewhere).
    pub records_every: Duration,
}

impl PurgeSchedule {
    /// Erase ended windows `every` interval; purge expired records every
    /// [`DEFAULT_RECORDS_EVERY`] (or `every`, if longer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::store::PurgeSchedule;
    ///
    /// let daily = PurgeSchedule::every(Duration::from_secs(86_400));
    /// assert_eq!(daily.records_every, daily.windows_every);
    /// ```
    pub fn every(every: Duration) -> Self {
        PurgeSchedule {
            windows_every: every,
            records_every: every.max(DEFAULT_RECORDS_EVERY),
        }
    }
}

/// A background task that keeps a token store clean: every
/// [`windows_every`](PurgeSchedule::windows_every) it erases the sealed
/// successors whose grace window has ended
/// ([`TokenStore::erase_ended_windows`]), and every
/// [`records_every`](PurgeSchedule::records_every) (and once at start) it
/// purges expired records ([`TokenStore::purge_expired`]), both at the time
/// of `clock`. A sealed successor therefore lives at most its grace window
/// plus `windows_every` (plus the length of one step); on Redis, which
/// expires it itself, exactly the window.
///
/// A failed step is logged (`tracing` warning) and retried at the next tick.
/// Dropping the handle stops the task (it is aborted at its next await).
///
/// # Panics
///
/// [`spawn`](Self::spawn) panics outside a Tokio runtime, as `tokio::spawn`
/// does; the runtime needs its time driver (`#[tokio::main]` and
/// `Builder::enable_all` have it), without which the task ends at once
/// ([`is_running`](Self::is_running) turns false).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tower_simplejwt::clock::SystemClock;
/// use tower_simplejwt::store::{MemoryTokenStore, PurgeTask, TokenStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
/// let purging = PurgeTask::spawn(store.clone(), Arc::new(SystemClock), Duration::from_secs(5));
/// // … serve requests; the task stops with its handle.
/// drop(purging);
/// # });
/// ```
#[derive(Debug)]
pub struct PurgeTask {
    task: JoinHandle<()>,
}

impl PurgeTask {
    /// Spawns the task with [`PurgeSchedule::every`]`(every)` (at least one second).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_simplejwt::clock::SystemClock;
    /// use tower_simplejwt::store::{MemoryTokenStore, PurgeTask};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// // Sealed successors live at most the grace window plus 5 seconds.
    /// let purging = PurgeTask::spawn(Arc::new(MemoryTokenStore::new()), Arc::new(SystemClock), Duration::from_secs(5));
    /// # drop(purging);
    /// # });
    /// ```
    pub fn spawn(store: Arc<dyn TokenStore>, clock: SharedClock, every: Duration) -> Self {
        Self::spawn_with(store, clock, PurgeSchedule::every(every))
    }

    /// Spawns the task with its own schedule (intervals of at least one second).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_simplejwt::clock::SystemClock;
    /// use tower_simplejwt::store::{MemoryTokenStore, PurgeSchedule, PurgeTask};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let schedule = PurgeSchedule { windows_every: Duration::from_secs(2), records_every: Duration::from_secs(600) };
    /// let purging = PurgeTask::spawn_with(Arc::new(MemoryTokenStore::new()), Arc::new(SystemClock), schedule);
    /// assert!(purging.is_running());
    /// # });
    /// ```
    pub fn spawn_with(
        store: Arc<dyn TokenStore>,
        clock: SharedClock,
        schedule: PurgeSchedule,
    ) -> Self {
        PurgeTask {
            task: tokio::spawn(run(store, clock, schedule)),
        }
    }

    /// One step of the task, at `now`: erases the ended grace windows, and
    /// with `purge_records` also purges expired records (which erases them
    /// too). Returns how many windows were erased or token records purged.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::{MemoryTokenStore, PurgeTask, RecordedToken, TokenStore, CLOCK_SKEW_MARGIN};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryTokenStore::new();
    /// store.record(RecordedToken::new("j", "1", 100)).await?;
    /// assert_eq!(PurgeTask::step(&store, 100 + CLOCK_SKEW_MARGIN.as_secs(), false).await?, 0);
    /// assert_eq!(PurgeTask::step(&store, 100 + CLOCK_SKEW_MARGIN.as_secs(), true).await?, 1);
    /// # Ok::<(), tower_simplejwt::store::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub async fn step(
        store: &dyn TokenStore,
        now: u64,
        purge_records: bool,
    ) -> Result<u64, StoreError> {
        if purge_records {
            store.purge_expired(now).await
        } else {
            store.erase_ended_windows(now).await
        }
    }

    /// Whether the task still runs (it only ends when aborted or if a step panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_simplejwt::clock::SystemClock;
    /// use tower_simplejwt::store::{MemoryTokenStore, PurgeTask};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let purging = PurgeTask::spawn(Arc::new(MemoryTokenStore::new()), Arc::new(SystemClock), Duration::from_secs(5));
    /// assert!(purging.is_running());
    /// # });
    /// ```
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for PurgeTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(store: Arc<dyn TokenStore>, clock: SharedClock, schedule: PurgeSchedule) {
    let records_every = schedule.records_every.max(SHORTEST);
    let mut ticks = tokio::time::interval(schedule.windows_every.max(SHORTEST));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut next_records = Instant::now();
    loop {
        ticks.tick().await;
        let purge_records = Instant::now() >= next_records;
        if purge_records {
            next_records = Instant::now() + records_every;
        }
        if let Err(error) = PurgeTask::step(&*store, clock.now(), purge_records).await {
            tracing::warn!(
                target: "tower_simplejwt::store",
                %error,
                purge_records,
                "token store purge failed; retried at the next tick"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::clock::ManualClock;
    use crate::future::BoxFuture;
    use crate::store::{
        BlacklistOutcome, MemoryTokenStore, RecordedToken, Refusal, Rotation, RotationOutcome,
        RotationRules, TokenState,
    };

    /// The memory store, counting the task's calls.
    #[derive(Debug, Default)]
    struct Counting {
        inner: MemoryTokenStore,
        erasures: AtomicU64,
        purges: AtomicU64,
    }

    impl TokenStore for Counting {
        fn record(&self, token: RecordedToken) -> BoxFuture<'_, Result<(), StoreError>> {
            self.inner.record(token)
        }

        fn rotate(
            &self,
            rotation: Rotation,
            clock: SharedClock,
        ) -> BoxFuture<'_, Result<RotationOutcome, StoreError>> {
            self.inner.rotate(rotation, clock)
        }

        fn blacklist(
            &self,
            token: RecordedToken,
        ) -> BoxFuture<'_, Result<BlacklistOutcome, StoreError>> {
            self.inner.blacklist(token)
        }

        fn state<'a>(
            &'a self,
            subject: &'a str,
            jti: &'a str,
        ) -> BoxFuture<'a, Result<TokenState, StoreError>> {
            self.inner.state(subject, jti)
        }

        fn revoke_subject<'a>(
            &'a self,
            subject: &'a str,
        ) -> BoxFuture<'a, Result<u64, StoreError>> {
            self.inner.revoke_subject(subject)
        }

        fn purge_expired(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
            self.purges.fetch_add(1, Ordering::SeqCst);
            self.inner.purge_expired(now)
        }

        fn erase_ended_windows(&self, now: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
            self.erasures.fetch_add(1, Ordering::SeqCst);
            self.inner.erase_ended_windows(now)
        }
    }

    /// Lets the spawned task run what is due.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    /// Tokio's paused time drives the task's interval; the manual clock, the
    /// window: no sleep anywhere.
    #[tokio::test(start_paused = true)]
    async fn the_task_erases_ended_windows_on_its_interval_and_stops_when_dropped() {
        let store = Arc::new(Counting::default());
        let clock = ManualClock::new(1_000);
        let shared: SharedClock = Arc::new(clock.clone());
        let first = RecordedToken::new("a".repeat(32), "1", 5_000);
        store.record(first.clone()).await.unwrap();
        let rules = RotationRules {
            reuse_grace: Duration::from_secs(10),
            ..RotationRules::default()
        };
        let rotation = Rotation {
            presented: first,
            successor: RecordedToken::new("b".repeat(32), "1", 5_000),
            sealed_successor: Some("sealed".into()),
            rules,
        };
        let outcome = store
            .rotate(rotation.clone(), shared.clone())
            .await
            .unwrap();
        assert_eq!(outcome, RotationOutcome::Rotated);

        let schedule = PurgeSchedule {
            windows_every: Duration::from_secs(5),
            records_every: Duration::from_secs(60),
        };
        let task = PurgeTask::spawn_with(store.clone(), shared.clone(), schedule);
        settle().await;
        assert_eq!(
            store.purges.load(Ordering::SeqCst),
            1,
            "records are purged at start"
        );
        assert_eq!(store.erasures.load(Ordering::SeqCst), 0);

        clock.set(1_010);
        tokio::time::advance(Duration::from_secs(5)).await;
        settle().await;
        assert_eq!(
            store.erasures.load(Ordering::SeqCst),
            1,
            "one tick, one erasure"
        );
        clock.set(1_009);
        let replay = Rotation {
            successor: RecordedToken::new("c".repeat(32), "1", 5_000),
            ..rotation
        };
        assert_eq!(
            store.rotate(replay, shared).await.unwrap(),
            RotationOutcome::Refused(Refusal::Blacklisted),
            "the successor of the ended window is gone"
        );

        tokio::time::advance(Duration::from_secs(60)).await;
        settle().await;
        assert_eq!(
            store.purges.load(Ordering::SeqCst),
            2,
            "records again after a minute"
        );
        assert!(task.is_running());

        drop(task);
        settle().await;
        let (erasures, purges) = (
            store.erasures.load(Ordering::SeqCst),
            store.purges.load(Ordering::SeqCst),
        );
        tokio::time::advance(Duration::from_secs(3600)).await;
        settle().await;
        assert_eq!(store.erasures.load(Ordering::SeqCst), erasures, "stopped");
        assert_eq!(store.purges.load(Ordering::SeqCst), purges, "stopped");
    }

    #[test]
    fn a_schedule_purges_records_at_most_hourly_by_default() {
        let schedule = PurgeSchedule::every(Duration::from_secs(5));
        assert_eq!(schedule.records_every, DEFAULT_RECORDS_EVERY);
        let slow = PurgeSchedule::every(Duration::from_secs(7_200));
        assert_eq!(slow.records_every, Duration::from_secs(7_200));
    }
}
