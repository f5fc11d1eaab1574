//! A memory budget for the password checks that run at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::block_pool::BlockPool;

/// The default budget: 256 MiB, room for 13 argon2 checks with the OWASP
/// parameters (19 MiB each).
const DEFAULT_BUDGET_KIB: u32 = 256 * 1024;

/// The default number of logins served at once.
const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// Bounds the memory that password checks hold at once, and the number of
/// logins being served at once.
///
/// A login of [`PasswordAuthenticator`](super::PasswordAuthenticator) is
/// admitted before it looks its user up, if fewer than `max_in_flight`
/// logins are being served (looking up, waiting for room, hashing);
/// otherwise it is refused at once, and the obtain endpoint answers `503
/// service_unavailable` with `Retry-After: 1`. An admitted login's password
/// check (unknown usernames included) then takes from the budget the memory
/// its hash needs (argon2's `m` parameter, at least the hasher's own; a
/// hash larger than the whole budget takes all of it and runs alone),
/// waiting in arrival order while the budget is spent, and gives it back
/// when the hash is computed, even if the client has gone away meanwhile.
/// Memory stays under the budget, and the user store sees at most
/// `max_in_flight` lookups, however many logins arrive. argon2's working
/// memory is kept between checks, wiped, rather than given back to the
/// allocator each time (allocating and freeing it per check let the process
/// grow to 12× the budget on glibc); the memory kept and the memory in use
/// together stay within the budget.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::LoginLimit;
///
/// // 64 MiB: three checks with the default 19 MiB argon2 parameters at once,
/// // and at most 32 logins served at once.
/// let limit = LoginLimit::new(64 * 1024 * 1024, 32);
/// assert_eq!(limit.budget_kib(), 64 * 1024);
/// assert_eq!(limit.max_in_flight(), 32);
/// assert_eq!(LoginLimit::default().budget_kib(), 256 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct LoginLimit {
    budget: Arc<Semaphore>,
    /// argon2's working memory, reused: kept and in use, at most the budget.
    memory: Arc<BlockPool>,
    budget_kib: u32,
    max_in_flight: usize,
    in_flight: Arc<AtomicUsize>,
}

impl Default for LoginLimit {
    /// A 256 MiB budget and at most 256 logins served at once.
    fn default() -> Self {
        LoginLimit::with_budget_kib(DEFAULT_BUDGET_KIB, DEFAULT_MAX_IN_FLIGHT)
    }
}

/// A login being served, counted until dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    in_flight: Arc<AtomicUsize>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An admitted login with room in the budget for its check; both are given
/// back when dropped.
#[derive(Debug)]
pub(crate) struct BudgetPermit {
    _room: OwnedSemaphorePermit,
    _admission: Admission,
}

/// `max_in_flight` logins are being served already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("login limit saturated: the maximum number of logins is being served")]
pub(crate) struct Saturated;

impl LoginLimit {
    /// A budget of `budget_bytes` (at least 1 KiB) shared by the password
    /// checks running at once, and at most `max_in_flight` logins (at least
    /// 1) served at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::LoginLimit;
    ///
    /// // Out-of-range values are brought into range.
    /// let limit = LoginLimit::new(0, 0);
    /// assert_eq!((limit.budget_kib(), limit.max_in_flight()), (1, 1));
    /// ```
    pub fn new(budget_bytes: u64, max_in_flight: usize) -> Self {
        let budget_kib = u32::try_from(budget_bytes / 1024).unwrap_or(u32::MAX);
        LoginLimit::with_budget_kib(budget_kib, max_in_flight)
    }

    fn with_budget_kib(budget_kib: u32, max_in_flight: usize) -> Self {
        let budget_kib = budget_kib.clamp(1, MAX_BUDGET_KIB);
        LoginLimit {
            budget: Arc::new(Semaphore::new(budget_kib as usize)),
            memory: Arc::new(BlockPool::new(budget_kib as usize)),
            budget_kib,
            max_in_flight: max_in_flight.max(1),
            in_flight: Arc::default(),
        }
    }

    /// The budget, in KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::LoginLimit;
    ///
    /// assert_eq!(LoginLimit::new(32 * 1024 * 1024, 8).budget_kib(), 32 * 1024);
    /// ```
    pub fn budget_kib(&self) -> u32 {
        self.budget_kib
    }

    /// How many logins may be served at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::LoginLimit;
    ///
    /// assert_eq!(LoginLimit::new(32 * 1024 * 1024, 8).max_in_flight(), 8);
    /// ```
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The working memory of the checks run within this limit.
    pub(crate) fn memory(&self) -> &Arc<BlockPool> {
        &self.memory
    }

    /// How many checks of `cost_kib` fit in the budget at once (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::LoginLimit;
    ///
    /// assert_eq!(LoginLimit::default().concurrent_checks(19 * 1024), 13);
    /// assert_eq!(LoginLimit::new(1024 * 1024, 1).concurrent_checks(19 * 1024), 1);
    /// ```
    pub fn concurrent_checks(&self, cost_kib: u32) -> u32 {
        self.budget_kib / self.charge(cost_kib)
    }

    /// What a check of `cost_kib` takes from the budget: at least 1 KiB, at
    /// most all of it.
    fn charge(&self, cost_kib: u32) -> u32 {
        cost_kib.clamp(1, self.budget_kib)
    }

    /// Admits one more login, or [`Saturated`] when `max_in_flight` are
    /// being served.
    pub(crate) fn admit(&self) -> Result<Admission, Saturated> {
        self.in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                (now < self.max_in_flight).then_some(now + 1)
            })
            .map(|_| Admission {
                in_flight: self.in_flight.clone(),
            })
            .map_err(|_| Saturated)
    }

    /// Waits, in arrival order, for room for one check of `cost_kib`.
    pub(crate) async fn room_for(
        &self,
        admission: Admission,
        cost_kib: u32,
    ) -> Result<BudgetPermit, Saturated> {
        let room = self
            .budget
            .clone()
            .acquire_many_owned(self.charge(cost_kib))
            .await
            .map_err(|_| Saturated)?;
        Ok(BudgetPermit {
            _room: room,
            _admission: admission,
        })
    }

    /// How many logins are being served now.
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// How much of the budget is free now, in KiB.
    #[cfg(test)]
    fn available_kib(&self) -> usize {
        self.budget.available_permits()
    }
}

/// tokio's semaphore holds at most `usize::MAX >> 3` permits; on 32-bit
/// targets that is below `u32::MAX`.
const MAX_BUDGET_KIB: u32 = {
    let most = usize::MAX >> 3;
    if most < u32::MAX as usize {
        most as u32
    } else {
        u32::MAX
    }
};

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::{pin, Pin};
    use std::task::{Context, Poll, Waker};

    use super::*;

    /// Polls `future` once.
    fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Room for one check of `cost_kib`, which must be free now.
    fn room_now(limit: &LoginLimit, cost_kib: u32) -> BudgetPermit {
        let admission = limit.admit().expect("admitted");
        match poll_once(pin!(limit.room_for(admission, cost_kib))) {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("the budget has room: {other:?}"),
        }
    }

    #[test]
    fn checks_share_the_budget_by_their_memory() {
        let limit = LoginLimit::new(64 * 1024 * 1024, 1);
        assert_eq!(limit.concurrent_checks(19 * 1024), 3);
        assert_eq!(limit.concurrent_checks(0), 64 * 1024, "at least 1 KiB each");
        assert_eq!(
            limit.concurrent_checks(u32::MAX),
            1,
            "a huge hash runs alone"
        );
        assert_eq!(LoginLimit::new(0, 0).budget_kib(), 1);
        assert_eq!(LoginLimit::new(0, 0).max_in_flight(), 1);
    }

    #[test]
    fn beyond_the_budget_logins_wait_and_beyond_max_in_flight_they_are_refused() {
        let limit = LoginLimit::new(3 * 1024 * 1024, 5);
        let held: Vec<_> = (0..3).map(|_| room_now(&limit, 1024)).collect();
        assert_eq!(limit.available_kib(), 0);

        let mut first = Box::pin(limit.room_for(limit.admit().unwrap(), 1024));
        let mut second = Box::pin(limit.room_for(limit.admit().unwrap(), 1024));
        assert!(poll_once(first.as_mut()).is_pending());
        assert!(poll_once(second.as_mut()).is_pending());
        assert_eq!(limit.in_flight(), 5);
        assert_eq!(limit.admit().unwrap_err(), Saturated);

        // A waiting client that goes away gives its place back.
        drop(second);
        assert_eq!(limit.in_flight(), 4);
        let mut third = Box::pin(limit.room_for(limit.admit().unwrap(), 1024));
        assert!(poll_once(third.as_mut()).is_pending());

        // A finished check lets the first in line in, in arrival order.
        drop(held);
        assert_eq!(limit.in_flight(), 2);
        let first = match poll_once(first.as_mut()) {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("room for the first in line: {other:?}"),
        };
        assert!(matches!(poll_once(third.as_mut()), Poll::Ready(Ok(_))));
        assert_eq!(limit.in_flight(), 1, "the first still hashes");
        drop(first);
        assert_eq!((limit.in_flight(), limit.available_kib()), (0, 3 * 1024));
    }

    #[test]
    fn a_hash_larger_than_the_budget_runs_alone() {
        let limit = LoginLimit::new(1024 * 1024, 2);
        let huge = room_now(&limit, u32::MAX);
        let mut small = Box::pin(limit.room_for(limit.admit().unwrap(), 1));
        assert!(poll_once(small.as_mut()).is_pending());
        drop(huge);
        assert!(matches!(poll_once(small.as_mut()), Poll::Ready(Ok(_))));
    }
}
