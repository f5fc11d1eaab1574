//! argon2's working memory, kept for the next password check.
//!
//! Allocating and freeing an argon2 hash's memory (19 MiB with the default
//! parameters) on every check lets glibc's allocator keep the freed memory
//! in per-thread arenas, raising its own threshold for giving large blocks
//! back to the system: measured on the example server, 600 logins with 13
//! checks at a time left it at 3.2 GiB resident instead of the 250 MiB the
//! checks held at once. Reusing the buffers keeps the resident memory at
//! what the checks hold at once.

use std::sync::Mutex;

use argon2::Block;
use zeroize::Zeroize;

use crate::lock::lock;

/// Buffers of argon2 blocks, reused by exact size, within a budget that
/// counts both the buffers kept and those lent out to running checks.
#[derive(Debug)]
pub(crate) struct BlockPool {
    state: Mutex<PoolState>,
    /// The most blocks (KiB) kept and lent out at once.
    budget_blocks: usize,
}

#[derive(Debug, Default)]
struct PoolState {
    /// Wiped buffers kept for the next check.
    free: Vec<Vec<Block>>,
    /// Blocks lent out by [`BlockPool::take`] and not given back yet.
    in_use: usize,
}

impl PoolState {
    fn retained(&self) -> usize {
        self.free.iter().map(Vec::len).sum()
    }
}

impl BlockPool {
    /// A pool whose kept and lent-out buffers hold at most `budget_kib` KiB.
    pub(crate) fn new(budget_kib: usize) -> Self {
        BlockPool {
            state: Mutex::default(),
            budget_blocks: budget_kib,
        }
    }

    /// A buffer of exactly `blocks` blocks: a kept one, or a new one. Kept
    /// buffers of other sizes are dropped first as far as needed for the
    /// kept and lent-out blocks, the new buffer included, to stay within
    /// the budget. Its content is zero or whatever argon2 overwrites
    /// before reading it.
    pub(crate) fn take(&self, blocks: usize) -> Vec<Block> {
        let (kept, dropped) = {
            let mut state = lock(&self.state);
            state.in_use = state.in_use.saturating_add(blocks);
            match state.free.iter().position(|buffer| buffer.len() == blocks) {
                Some(at) => (Some(state.free.swap_remove(at)), Vec::new()),
                None => {
                    let mut dropped = Vec::new();
                    while !state.free.is_empty()
                        && state.retained().saturating_add(state.in_use) > self.budget_blocks
                    {
                        dropped.push(state.free.swap_remove(0));
                    }
                    (None, dropped)
                }
            }
        };
        // Freed outside the lock.
        drop(dropped);
        kept.unwrap_or_else(|| vec![Block::default(); blocks])
    }

    /// Wipes `buffer` (argon2's working memory is derived from the
    /// password) and keeps it for the next check, unless that would hold
    /// more than the pool's budget.
    pub(crate) fn give_back(&self, mut buffer: Vec<Block>) {
        for block in &mut buffer {
            block.zeroize();
        }
        let rejected = {
            let mut state = lock(&self.state);
            state.in_use = state.in_use.saturating_sub(buffer.len());
            let held = state
                .retained()
                .saturating_add(state.in_use)
                .saturating_add(buffer.len());
            if held <= self.budget_blocks {
                state.free.push(buffer);
                None
            } else {
                Some(buffer)
            }
        };
        // Freed outside the lock.
        drop(rejected);
    }

    /// How many blocks are kept now.
    #[cfg(test)]
    pub(crate) fn retained_blocks(&self) -> usize {
        lock(&self.state).retained()
    }

    /// The kept buffers, to check what they hold.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> Vec<Vec<Block>> {
        lock(&self.state).free.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_by_size_and_the_pool_is_bounded() {
        let pool = BlockPool::new(48);
        let buffers = [pool.take(16), pool.take(16), pool.take(8)];
        assert_eq!(pool.retained_blocks(), 0);
        for buffer in buffers {
            pool.give_back(buffer);
        }
        assert_eq!(pool.retained_blocks(), 40);
        let reused = pool.take(16);
        assert_eq!((reused.len(), pool.retained_blocks()), (16, 24));
        let fresh = pool.take(4);
        assert_eq!((fresh.len(), pool.retained_blocks()), (4, 24));
        // 24 + 32 blocks would be over the limit: dropped.
        pool.give_back(vec![Block::default(); 32]);
        assert_eq!(pool.retained_blocks(), 24);
        pool.give_back(reused);
        assert_eq!(pool.retained_blocks(), 40);
    }

    #[test]
    fn kept_and_lent_out_buffers_stay_within_the_budget() {
        let pool = BlockPool::new(48);
        pool.give_back(pool.take(32));
        assert_eq!(pool.retained_blocks(), 32);
        // Another argon2 size: 32 kept + 24 lent out would be over 48.
        let other = pool.take(24);
        assert_eq!(other.len(), 24);
        assert!(
            pool.retained_blocks() + 24 <= 48,
            "kept {} with 24 lent out",
            pool.retained_blocks()
        );
        pool.give_back(other);
        assert_eq!(pool.retained_blocks(), 24);
        // The same size is reused without dropping anything.
        let again = pool.take(24);
        assert_eq!(pool.retained_blocks(), 0);
        pool.give_back(again);
        assert_eq!(pool.retained_blocks(), 24);
    }

    #[test]
    fn buffers_are_wiped_when_given_back() {
        let pool = BlockPool::new(8);
        let mut buffer = pool.take(2);
        for block in &mut buffer {
            block.as_mut().fill(0xdead_beef);
        }
        pool.give_back(buffer);
        let kept = pool.kept();
        assert_eq!(kept.len(), 1);
        assert!(kept[0]
            .iter()
            .all(|block| block.as_ref().iter().all(|word| *word == 0)));
        let reused = pool.take(2);
        assert!(reused
            .iter()
            .all(|block| block.as_ref().iter().all(|word| *word == 0)));
    }
}
