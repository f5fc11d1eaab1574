//! A bounded cache of tokens whose signature was already checked.
//!
//! Asymmetric signatures cost 35–90 µs to verify; a client reuses its access
//! token for its whole lifetime. The cache is keyed by the token's full
//! bytes, so a hit is the very same token: only its signature check and
//! parsing are skipped. Every time-dependent and type rule runs again on
//! each hit, against the clock.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use super::claims::{NumericDate, RawClaims};

const SHARDS: usize = 16;

#[derive(Debug)]
pub(crate) struct VerifiedCache {
    shards: Vec<Mutex<HashMap<Box<str>, RawClaims>>>,
    per_shard: usize,
    hasher: RandomState,
}

impl VerifiedCache {
    /// A cache of at most about `capacity` tokens; `None` when `capacity` is 0.
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| VerifiedCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: RandomState::new(),
        })
    }

    fn shard(&self, token: &str) -> std::sync::MutexGuard<'_, HashMap<Box<str>, RawClaims>> {
        let index = (self.hasher.hash_one(token) % SHARDS as u64) as usize;
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, token: &str) -> Option<RawClaims> {
        self.shard(token).get(token).cloned()
    }

    /// Remembers a token whose signature checked out. A full shard first
    /// drops its expired tokens, then everything if that was not enough.
    pub(crate) fn insert(&self, token: &str, claims: &RawClaims, now: u64) {
        let mut shard = self.shard(token);
        if shard.len() >= self.per_shard {
            shard.retain(|_, cached| matches!(cached.exp, NumericDate::Seconds(exp) if exp > now));
            if shard.len() >= self.per_shard {
                shard.clear();
            }
        }
        shard.insert(token.into(), claims.clone());
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
