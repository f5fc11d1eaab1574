//! Points inside a backend's atomic rotation where a test can hold it, so
//! that a revocation is forced into exactly that gap.
//!
//! Hidden from the documentation: production code never sets a hook; the
//! conformance suite's interleavings do.

use std::fmt;
use std::sync::Arc;

use super::BoxFuture;

/// Where a rotation is when it calls its [`PauseHook`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Checkpoint {
    /// The atomic step has begun (transaction open, clock not read, nothing locked by us yet
    /// beyond what beginning takes).
    Begun,
    /// The family's record is locked (or, for Redis, the script is about to be sent: with an
    /// injected clock, that clock has been read; the system clock is read inside the script).
    FamilyLocked,
    /// The presented token's record is locked and read.
    TokenLocked,
    /// Everything is written; the step is about to commit.
    Written,
}

/// Awaited by a rotation at each [`Checkpoint`] it passes.
#[doc(hidden)]
#[derive(Clone)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "redis")),
    allow(dead_code)
)]
pub struct PauseHook(Arc<dyn Fn(Checkpoint) -> BoxFuture<'static, ()> + Send + Sync>);

impl PauseHook {
    /// A hook calling `pause` at every checkpoint.
    pub fn new(
        pause: impl Fn(Checkpoint) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        PauseHook(Arc::new(pause))
    }

    /// Awaits the hook at `checkpoint` (the memory store has none to await).
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "redis")),
        allow(dead_code)
    )]
    pub(crate) async fn at(hook: &Option<PauseHook>, checkpoint: Checkpoint) {
        if let Some(hook) = hook {
            (hook.0)(checkpoint).await;
        }
    }
}

impl fmt::Debug for PauseHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PauseHook")
    }
}
