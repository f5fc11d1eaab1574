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

use super::payload::{NumericDate, RawClaims};
use crate::lock::lock;

const SHARDS: usize = 16;

/// One remembered token: its full bytes and its parsed claims.
#[derive(Debug)]
struct Entry {
    token: Box<str>,
    claims: RawClaims,
}

/// A part of the cache behind its own lock.
#[derive(Debug)]
struct Shard {
    entries: HashTable<Entry>,
    /// The hashes of cheap-to-verify tokens seen once, one per slot (a
    /// doorkeeper): such a token is remembered on its second use, so tokens
    /// used only once cost a hash and a slot write, not an insertion.
    seen_once: Box<[u64]>,
    /// The key-set generation whose tokens this shard takes: an insertion
    /// verified under another (an older) generation is dropped, so a
    /// verification that started before a key rotation cannot put a token
    /// of a retired key back after the rotation emptied the cache.
    generation: u64,
}

/// A token's hash, computed once per verification and used for its shard,
/// its slot and its doorkeeper entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenHash(u64);

#[derive(Debug)]
pub(crate) struct VerifiedCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    /// Randomly seeded. Only tokens whose signature checked out are ever
    /// inserted, so nobody can fill a slot with tokens of their choosing.
    hasher: foldhash::fast::RandomState,
}

impl VerifiedCache {
    /// A cache of at most about `capacity` tokens; `None` when `capacity` is 0.
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        let per_shard = capacity.div_ceil(SHARDS);
        (capacity > 0).then(|| VerifiedCache {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashTable::new(),
                        seen_once: vec![0; per_shard].into_boxed_slice(),
                        generation: 0,
                    })
                })
                .collect(),
            per_shard,
            hasher: foldhash::fast::RandomState::default(),
        })
    }

    pub(crate) fn hash(&self, token: &str) -> TokenHash {
        TokenHash(self.hasher.hash_one(token))
    }

    /// The locked shard of a hash, picked by middle bits: the table places
    /// entries by the low bits and tags them with the top seven.
    fn shard(&self, hash: TokenHash) -> MutexGuard<'_, Shard> {
        let index = (hash.0 >> 32) as usize % SHARDS;
        lock(&self.shards[index])
    }

    pub(crate) fn get(&self, hash: TokenHash, token: &str) -> Option<RawClaims> {
        self.shard(hash)
            .entries
            .find(hash.0, |entry| *entry.token == *token)
            .map(|entry| entry.claims.clone())
    }

    /// Remembers a token whose signature checked out with the keys of
    /// `generation`: at once when its signature was `expensive` to check,
    /// otherwise on its second use; not at all when the keys changed since
    /// (the check and the insertion are one step under the shard's lock). A
    /// full shard first drops its expired tokens, then everything if that
    /// was not enough.
    pub(crate) fn insert(
        &self,
        generation: u64,
        hash: TokenHash,
        token: &str,
        claims: &RawClaims,
        expensive: bool,
        now: u64,
    ) {
        let mut guard = self.shard(hash);
        let shard = &mut *guard;
        if shard.generation != generation {
            return;
        }
        if !expensive {
            let slot = &mut shard.seen_once[hash.0 as usize % self.per_shard];
            if *slot != hash.0 {
                *slot = hash.0;
                return;
            }
        }
        let entries = &mut shard.entries;
        if entries
            .find(hash.0, |entry| *entry.token == *token)
            .is_some()
        {
            return;
        }
        if entries.len() >= self.per_shard {
            entries
                .retain(|entry| matches!(entry.claims.exp, NumericDate::Seconds(exp) if exp > now));
            if entries.len() >= self.per_shard {
                entries.clear();
            }
        }
        let hasher = |entry: &Entry| self.hasher.hash_one(&*entry.token);
        entries.insert_unique(
            hash.0,
            Entry {
                token: token.into(),
                claims: claims.clone(),
            },
            hasher,
        );
    }

    /// Forgets every token.
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            let mut shard = lock(shard);
            shard.entries.clear();
            shard.seen_once.fill(0);
        }
    }

    /// Forgets every token and from now on takes only tokens verified with
    /// the keys of `generation` (after a key rotation).
    pub(crate) fn start_generation(&self, generation: u64) {
        for shard in &self.shards {
            let mut shard = lock(shard);
            shard.generation = generation;
            shard.entries.clear();
            shard.seen_once.fill(0);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap().entries.len())
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

    fn insert(cache: &VerifiedCache, token: &str, claims: &RawClaims, expensive: bool) {
        cache.insert(0, cache.hash(token), token, claims, expensive, 10);
    }

    fn get(cache: &VerifiedCache, token: &str) -> Option<RawClaims> {
        cache.get(cache.hash(token), token)
    }

    #[test]
    fn bounded_and_expiry_aware() {
        let cache = VerifiedCache::new(32).unwrap();
        for i in 0..1000 {
            insert(
                &cache,
                &format!("token-{i}"),
                &claims(if i % 2 == 0 { 5 } else { 500 }),
                true,
            );
        }
        assert!(cache.len() <= 32 + SHARDS, "{}", cache.len());
        insert(&cache, "keep", &claims(500), true);
        assert_eq!(
            get(&cache, "keep").map(|c| c.exp),
            Some(NumericDate::Seconds(500))
        );
        cache.clear();
        assert!(get(&cache, "keep").is_none());
        assert!(VerifiedCache::new(0).is_none());
    }

    #[test]
    fn cheap_tokens_are_remembered_on_their_second_use() {
        let cache = VerifiedCache::new(1000).unwrap();
        insert(&cache, "cheap", &claims(500), false);
        assert!(get(&cache, "cheap").is_none(), "first use: only seen");
        insert(&cache, "cheap", &claims(500), false);
        assert!(get(&cache, "cheap").is_some(), "second use: remembered");
        insert(&cache, "expensive", &claims(500), true);
        assert!(get(&cache, "expensive").is_some(), "remembered at once");

        insert(&cache, "forgotten", &claims(500), false);
        cache.clear();
        insert(&cache, "forgotten", &claims(500), false);
        assert!(
            get(&cache, "forgotten").is_none(),
            "clearing forgets what was seen too"
        );
    }

    #[test]
    fn a_new_generation_drops_insertions_verified_under_an_older_one() {
        let cache = VerifiedCache::new(1000).unwrap();
        insert(&cache, "old", &claims(500), true);
        cache.start_generation(1);
        assert!(
            get(&cache, "old").is_none(),
            "a rotation forgets every token"
        );
        insert(&cache, "late", &claims(500), true);
        assert!(
            get(&cache, "late").is_none(),
            "verified with generation 0, inserted after generation 1 began"
        );
        cache.insert(1, cache.hash("current"), "current", &claims(500), true, 10);
        assert!(get(&cache, "current").is_some());
        cache.clear();
        cache.insert(
            1,
            cache.hash("after clear"),
            "after clear",
            &claims(500),
            true,
            10,
        );
        assert!(
            get(&cache, "after clear").is_some(),
            "clearing keeps the generation"
        );
    }
}
