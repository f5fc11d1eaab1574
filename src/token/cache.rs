//! A bounded cache of tokens whose signature was already checked.
//!
//! Asymmetric signatures cost 35–90 µs to verify, and even an HMAC tag with
//! the decoding and parsing around it costs several times a lookup; a client
//! reuses its access token for its whole lifetime. The cache is keyed by the
//! token's full bytes, so a hit is the very same token: only its signature
//! check, decoding and parsing are skipped. Every time-dependent and type
//! rule runs again on each hit, against the clock.

use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};

use hashbrown::HashTable;

use super::claims::{NumericDate, RawClaims};

const SHARDS: usize = 16;

/// One remembered token: its full bytes and its parsed claims.
#[derive(Debug)]
struct Entry {
    token: Box<str>,
    claims: RawClaims,
}

#[derive(Debug)]
pub(crate) struct VerifiedCache {
    shards: Vec<Mutex<HashTable<Entry>>>,
    per_shard: usize,
    /// Randomly seeded; the token is hashed once to pick both its shard and
    /// its slot. Only tokens whose signature checked out are ever inserted.
    hasher: foldhash::fast::RandomState,
}

impl VerifiedCache {
    /// A cache of at most about `capacity` tokens; `None` when `capacity` is 0.
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| VerifiedCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashTable::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: foldhash::fast::RandomState::default(),
        })
    }

    /// The token's hash and its locked shard, picked by middle bits of the
    /// hash: the table places entries by its low bits and tags them with its
    /// top seven.
    fn shard(&self, token: &str) -> (u64, MutexGuard<'_, HashTable<Entry>>) {
        let hash = self.hasher.hash_one(token);
        let index = (hash >> 32) as usize % SHARDS;
        let shard = self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (hash, shard)
    }

    pub(crate) fn get(&self, token: &str) -> Option<RawClaims> {
        let (hash, shard) = self.shard(token);
        shard
            .find(hash, |entry| *entry.token == *token)
            .map(|entry| entry.claims.clone())
    }

    /// Remembers a token whose signature checked out. A full shard first
    /// drops its expired tokens, then everything if that was not enough.
    pub(crate) fn insert(&self, token: &str, claims: &RawClaims, now: u64) {
        let (hash, mut shard) = self.shard(token);
        if shard.find(hash, |entry| *entry.token == *token).is_some() {
            return;
        }
        if shard.len() >= self.per_shard {
            shard
                .retain(|entry| matches!(entry.claims.exp, NumericDate::Seconds(exp) if exp > now));
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        let hasher = |entry: &Entry| self.hasher.hash_one(&*entry.token);
        shard.insert_unique(
            hash,
            Entry {
                token: token.into(),
                claims: claims.clone(),
            },
            hasher,
        );
    }

    /// Forgets every token (after a key is retired, say).
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clear();
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap().len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> RawClaims {
        RawClaims {
            exp: NumericDate::Seconds(exp),
            ..RawClaims::default()
        }
    }

    #[test]
    fn bounded_and_expiry_aware() {
        let cache = VerifiedCache::new(32).unwrap();
        for i in 0..1000 {
            cache.insert(
                &format!("token-{i}"),
                &claims(if i % 2 == 0 { 5 } else { 500 }),
                10,
            );
        }
        assert!(cache.len() <= 32 + SHARDS, "{}", cache.len());
        cache.insert("keep", &claims(500), 10);
        assert_eq!(
            cache.get("keep").map(|c| c.exp),
            Some(NumericDate::Seconds(500))
        );
        cache.clear();
        assert!(cache.get("keep").is_none());
        assert!(VerifiedCache::new(0).is_none());
    }
}
