//! Time source for minting and validating tokens.
//!
//! Every time-dependent rule of the crate (expiry, `nbf`, `iat`, the reuse
//! grace window) reads the time through a [`Clock`], so tests can move time
//! forward with a [`ManualClock`] instead of sleeping.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tower_simplejwt::clock::{Clock, ManualClock};
//!
//! let clock = ManualClock::new(1_700_000_000);
//! clock.advance(Duration::from_secs(7200));
//! assert_eq!(clock.now(), 1_700_007_200);
//! ```

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole seconds since the Unix epoch.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::clock::{Clock, SystemClock};
///
/// assert!(SystemClock.now() > 1_600_000_000);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time in seconds since the Unix epoch.
    fn now(&self) -> u64;

    /// Whether this clock is the real wall clock ([`SystemClock`]), so that
    /// a store with a clock of its own may read that one instead, inside
    /// its atomic step (the Redis store reads the server's `TIME` in its
    /// rotation script). A test clock answers `false` (the default) and is
    /// always the one read.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::clock::{Clock, ManualClock, SystemClock};
    ///
    /// assert!(SystemClock.is_system_time());
    /// assert!(!ManualClock::new(0).is_system_time());
    /// ```
    fn is_system_time(&self) -> bool {
        false
    }
}

/// The operating system's wall clock.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::clock::{Clock, SystemClock};
///
/// let before = SystemClock.now();
/// assert!(SystemClock.now() >= before);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0)
    }

    fn is_system_time(&self) -> bool {
        true
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tower_simplejwt::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(100);
/// let seen_by_server = clock.clone();
/// clock.set(500);
/// assert_eq!(seen_by_server.now(), 500);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    seconds: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `seconds` since the Unix epoch.
    pub fn new(seconds: u64) -> Self {
        Self {
            seconds: Arc::new(AtomicU64::new(seconds)),
        }
    }

    /// A clock standing at the current system time.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::clock::{Clock, ManualClock, SystemClock};
    ///
    /// assert!(ManualClock::starting_now().now() <= SystemClock.now());
    /// ```
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    /// Moves the clock to `seconds` since the Unix epoch.
    pub fn set(&self, seconds: u64) {
        self.seconds.store(seconds, Ordering::SeqCst);
    }

    /// Moves the clock forward by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        self.seconds.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.seconds.load(Ordering::SeqCst)
    }
}

/// A shared, type-erased clock as stored in the configuration.
pub type SharedClock = Arc<dyn Clock>;
