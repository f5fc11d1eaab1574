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

use crate::lock::lock;

/// Buffers of argon2 blocks, reused by exact size.
#[derive(Debug)]
pub(crate) struct BlockPool {
    free: Mutex<Vec<Vec<Block>>>,
    /// The most blocks (KiB) kept between checks.
    max_retained_blocks: usize,
}

impl BlockPool {
    /// A pool that keeps at most `max_retained_kib` KiB between checks.
    pub(crate) fn new(max_retained_kib: usize) -> Self {
        BlockPool {
            free: Mutex::default(),
            max_retained_blocks: max_retained_kib,
        }
    }

    /// A buffer of exactly `blocks` blocks: a kept one, or a new one.
    /// Its content is whatever the last check left; argon2 overwrites every
    /// block before reading it.
    pub(crate) fn take(&self, blocks: usize) -> Vec<Block> {
        let kept = {
            let mut free = lock(&self.free);
            free.iter()
                .position(|buffer| buffer.len() == blocks)
                .map(|at| free.swap_remove(at))
        };
        kept.unwrap_or_else(|| vec![Block::default(); blocks])
    }

    /// Keeps `buffer` for the next check, unless that would keep more than
    /// the pool's limit.
    pub(crate) fn give_back(&self, buffer: Vec<Block>) {
        let mut free = lock(&self.free);
        let retained: usize = free.iter().map(Vec::len).sum();
        if retained + buffer.len() <= self.max_retained_blocks {
            free.push(buffer);
        }
    }

    /// How many blocks are kept now.
    #[cfg(test)]
    pub(crate) fn retained_blocks(&self) -> usize {
        lock(&self.free).iter().map(Vec::len).sum()
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
}
