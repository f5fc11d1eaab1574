//! Locking the crate's in-memory maps.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, also when a panic elsewhere poisoned it: every map the
/// crate keeps behind a lock is changed by single inserts, removals and
/// field writes, so it is consistent whenever the lock is free.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
