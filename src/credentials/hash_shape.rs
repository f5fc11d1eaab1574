//! What verifying a stored password hash costs, and a dummy of the same cost.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};

use super::block_pool::BlockPool;
use super::DjangoHash;
use crate::lock::lock;

/// How many distinct shapes the tracker remembers; a user table holds a
/// handful (the current argon2 parameters, older ones, Django's iteration
/// counts), and a hostile table cannot grow the tracker past this. When it
/// is full, a new shape takes the place of the cheapest one if it costs
/// more, so the slowest shape seen is always kept.
const MAX_TRACKED_SHAPES: usize = 16;

/// pbkdf2 iterations timed to learn what one costs, when no stored pbkdf2
/// hash has been verified.
const CALIBRATION_ITERATIONS: u32 = 10_000;

/// The most pbkdf2 iterations a padding runs (Django's hashes go up to a
/// million; a padding beyond ten times that is a measurement gone wrong).
const MAX_PADDING_ITERATIONS: u32 = 10_000_000;

/// Fixed inputs of dummy verifications: their output is thrown away.
const DUMMY_SALT: &[u8] = b"tower-simplejwt timing equalizer";

/// The algorithm and parameters of a stored hash: everything that decides
/// how long verifying it takes and how much memory it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HashShape {
    /// An argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$…`).
    Argon2 {
        algorithm: Argon2Algorithm,
        version: Version,
        params: Params,
        output_len: usize,
    },
    /// Django's `pbkdf2_sha256$<iterations>$…`.
    Pbkdf2Sha256 { iterations: u32 },
}

impl HashShape {
    /// The shape of `stored`, or `None` when it cannot be verified at all.
    pub(crate) fn of(stored: &str) -> Option<HashShape> {
        if stored.starts_with("pbkdf2_sha256$") {
            let parsed = DjangoHash::parse(stored)?;
            return Some(HashShape::Pbkdf2Sha256 {
                iterations: parsed.iterations,
            });
        }
        let parsed = PasswordHash::new(stored).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        Some(HashShape::Argon2 {
            algorithm: Argon2Algorithm::try_from(parsed.algorithm).ok()?,
            version: parsed
                .version
                .map_or(Ok(Version::default()), Version::try_from)
                .ok()?,
            params: cost_params(&params)?,
            output_len: parsed.hash.map(|output| output.len())?,
        })
    }

    /// The shape of new hashes made with `params`.
    pub(crate) fn argon2id(params: &Params) -> HashShape {
        HashShape::Argon2 {
            algorithm: Argon2Algorithm::Argon2id,
            version: Version::V0x13,
            params: cost_params(params).unwrap_or_else(|| params.clone()),
            output_len: params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
        }
    }

    /// The memory one verification of this shape holds, in KiB (pbkdf2
    /// holds next to none).
    pub(crate) fn memory_kib(&self) -> u32 {
        match self {
            HashShape::Argon2 { params, .. } => params.m_cost(),
            HashShape::Pbkdf2Sha256 { .. } => 0,
        }
    }

    /// Does the work of verifying `password` against a hash of this shape,
    /// and throws the result away.
    pub(crate) fn run_dummy(&self, password: &str, pool: &BlockPool) {
        match self {
            HashShape::Argon2 {
                algorithm,
                version,
                params,
                output_len,
            } => {
                let mut output = vec![0u8; *output_len];
                let argon2 = Argon2::new(*algorithm, *version, params.clone());
                let _ = argon2_into(&argon2, password.as_bytes(), DUMMY_SALT, &mut output, pool);
            }
            HashShape::Pbkdf2Sha256 { iterations } => {
                pbkdf2_sha256(password.as_bytes(), DUMMY_SALT, *iterations);
            }
        }
    }
}

/// argon2 of `password` into `output`, with the working memory from `pool`.
///
/// Real and dummy checks call this one function (never inlined), so they
/// run the same machine code: copies optimized apart were measured 15%
/// apart.
#[inline(never)]
pub(crate) fn argon2_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    output: &mut [u8],
    pool: &BlockPool,
) -> Result<(), argon2::Error> {
    let mut memory = pool.take(argon2.params().block_count());
    let computed = argon2.hash_password_into_with_memory(password, salt, output, &mut memory[..]);
    pool.give_back(memory);
    computed
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output (Django's `pbkdf2_sha256`).
///
/// Real and dummy checks call this one function (never inlined), so they
/// run the same machine code: copies optimized apart were measured 15%
/// apart.
#[inline(never)]
pub(crate) fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut derived);
    derived
}

/// The parameters that decide argon2's cost (memory, passes, lanes), so
/// that a stored hash and the hasher's settings compare equal.
fn cost_params(params: &Params) -> Option<Params> {
    Params::new(params.m_cost(), params.t_cost(), params.p_cost(), None).ok()
}

/// The shortest time each shape's verification has taken: the best
/// estimate of its own cost (longer runs were slowed by something else).
#[derive(Debug, Default)]
pub(crate) struct ShapeCosts {
    shortest: Mutex<Vec<(HashShape, Duration)>>,
    /// Every verification recorded, in order: the work done, for tests.
    #[cfg(test)]
    pub(crate) recorded: Mutex<Vec<HashShape>>,
}

impl ShapeCosts {
    /// Remembers that verifying `shape` took `elapsed`. When the tracker
    /// is full, a new shape replaces the cheapest one if it took longer,
    /// so the slowest shape seen is never forgotten.
    pub(crate) fn record(&self, shape: &HashShape, elapsed: Duration) {
        #[cfg(test)]
        lock(&self.recorded).push(shape.clone());
        let mut shortest = lock(&self.shortest);
        if let Some((_, fastest)) = shortest.iter_mut().find(|(known, _)| known == shape) {
            *fastest = (*fastest).min(elapsed);
        } else if shortest.len() < MAX_TRACKED_SHAPES {
            shortest.push((shape.clone(), elapsed));
        } else if let Some(cheapest) = shortest
            .iter_mut()
            .min_by_key(|(_, fastest)| *fastest)
            .filter(|(_, fastest)| *fastest < elapsed)
        {
            *cheapest = (shape.clone(), elapsed);
        }
    }

    /// The pbkdf2 iterations that cost, by the recorded times, what a
    /// verification of `shape` costs less than one of the slowest shape: 0
    /// when `shape` is the slowest. A shape the tracker does not hold (it
    /// was full of costlier ones) is costed at `elapsed`, the time its
    /// verification just took. The time of one iteration is measured once
    /// (10 000 iterations) if no pbkdf2 shape has been recorded.
    pub(crate) fn padding_for(&self, shape: &HashShape, elapsed: Duration) -> u32 {
        let (gap, per_iteration) = {
            let shortest = lock(&self.shortest);
            let own = shortest
                .iter()
                .find(|(known, _)| known == shape)
                .map_or(elapsed, |(_, fastest)| *fastest);
            let Some(longest) = shortest.iter().map(|(_, fastest)| *fastest).max() else {
                return 0;
            };
            let per_iteration = shortest
                .iter()
                .filter_map(|(known, fastest)| match known {
                    HashShape::Pbkdf2Sha256 { iterations } => {
                        Some(fastest.as_secs_f64() / f64::from(*iterations))
                    }
                    HashShape::Argon2 { .. } => None,
                })
                .min_by(f64::total_cmp);
            (longest.saturating_sub(own), per_iteration)
        };
        if gap.is_zero() {
            return 0;
        }
        let per_iteration = match per_iteration {
            Some(per_iteration) => per_iteration,
            None => self.calibrate_pbkdf2(),
        };
        if per_iteration <= 0.0 {
            return 0;
        }
        // `as` saturates: a gap of hours would be capped, never wrap.
        ((gap.as_secs_f64() / per_iteration) as u32).min(MAX_PADDING_ITERATIONS)
    }

    /// Times 10 000 pbkdf2 iterations and records them: the seconds per iteration.
    fn calibrate_pbkdf2(&self) -> f64 {
        let shape = HashShape::Pbkdf2Sha256 {
            iterations: CALIBRATION_ITERATIONS,
        };
        let started = Instant::now();
        pbkdf2_sha256(b"", DUMMY_SALT, CALIBRATION_ITERATIONS);
        let elapsed = started.elapsed();
        self.record(&shape, elapsed);
        elapsed.as_secs_f64() / f64::from(CALIBRATION_ITERATIONS)
    }

    /// The shape whose verification costs the most, if any was recorded.
    pub(crate) fn slowest(&self) -> Option<HashShape> {
        lock(&self.shortest)
            .iter()
            .max_by_key(|(_, fastest)| *fastest)
            .map(|(shape, _)| shape.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DJANGO_HASH: &str =
        "pbkdf2_sha256$1000$tSf3kyvAaWHUi0Rw2bVm0d$Wp17OTmLyqhvk3xiOEpEL5jrZUdo/AWI5gvNyp7S7mc=";

    #[test]
    fn shapes_of_stored_hashes() {
        assert_eq!(
            HashShape::of(DJANGO_HASH),
            Some(HashShape::Pbkdf2Sha256 { iterations: 1000 })
        );
        let params = Params::new(1024, 1, 1, None).unwrap();
        let stored = crate::credentials::PasswordHasher::argon2id(1024, 1, 1)
            .unwrap()
            .hash("pw")
            .unwrap();
        let shape = HashShape::of(&stored).unwrap();
        assert_eq!(shape, HashShape::argon2id(&params));
        assert_eq!(shape.memory_kib(), 1024);
        for unusable in ["", "md5$x", "pbkdf2_sha256$0$s$AAAA", "$argon2id$garbage"] {
            assert_eq!(HashShape::of(unusable), None, "{unusable}");
        }
    }

    #[test]
    fn the_slowest_shape_is_the_one_whose_fastest_run_is_longest() {
        let costs = ShapeCosts::default();
        assert_eq!(costs.slowest(), None);
        let argon2 = HashShape::argon2id(&Params::default());
        let pbkdf2 = HashShape::Pbkdf2Sha256 {
            iterations: 1_000_000,
        };
        costs.record(&argon2, Duration::from_millis(30));
        assert_eq!(costs.slowest(), Some(argon2.clone()));
        costs.record(&pbkdf2, Duration::from_millis(300));
        assert_eq!(costs.slowest(), Some(pbkdf2.clone()));
        // One argon2 run slowed down by load does not make argon2 the slowest:
        // pbkdf2's own cost is what its fastest run took.
        costs.record(&argon2, Duration::from_millis(900));
        assert_eq!(costs.slowest(), Some(pbkdf2.clone()));
        costs.record(&pbkdf2, Duration::from_millis(20));
        assert_eq!(costs.slowest(), Some(argon2));
    }

    #[test]
    fn cheaper_shapes_are_padded_up_to_the_slowest() {
        let costs = ShapeCosts::default();
        let argon2 = HashShape::argon2id(&Params::default());
        let pbkdf2 = HashShape::Pbkdf2Sha256 {
            iterations: 1_000_000,
        };
        assert_eq!(
            costs.padding_for(&argon2, Duration::ZERO),
            0,
            "never recorded"
        );
        costs.record(&argon2, Duration::from_millis(40));
        costs.record(&pbkdf2, Duration::from_millis(300));
        // 260 ms at 0.3 µs per iteration.
        assert_eq!(costs.padding_for(&argon2, Duration::ZERO), 866_666);
        assert_eq!(
            costs.padding_for(&pbkdf2, Duration::ZERO),
            0,
            "the slowest is not padded"
        );
        // Once argon2 is the slowest, pbkdf2 is padded by its own iterations' time.
        costs.record(&argon2, Duration::from_millis(30));
        costs.record(
            &HashShape::argon2id(&Params::new(65536, 3, 1, None).unwrap()),
            Duration::from_millis(600),
        );
        assert_eq!(costs.padding_for(&pbkdf2, Duration::ZERO), 1_000_000);
    }

    #[test]
    fn without_a_pbkdf2_shape_one_iteration_is_timed_once() {
        let costs = ShapeCosts::default();
        let cheap = HashShape::argon2id(&Params::new(8, 1, 1, None).unwrap());
        costs.record(&cheap, Duration::ZERO);
        costs.record(
            &HashShape::argon2id(&Params::default()),
            Duration::from_secs(1),
        );
        assert!(costs.padding_for(&cheap, Duration::ZERO) > 0);
        assert!(
            lock(&costs.shortest).iter().any(|(shape, _)| *shape
                == HashShape::Pbkdf2Sha256 {
                    iterations: CALIBRATION_ITERATIONS
                }),
            "the calibration is recorded and not run again"
        );
    }

    #[test]
    fn a_hostile_table_cannot_grow_the_tracker() {
        let costs = ShapeCosts::default();
        for iterations in 1..=1000 {
            costs.record(
                &HashShape::Pbkdf2Sha256 { iterations },
                Duration::from_nanos(u64::from(iterations)),
            );
        }
        assert_eq!(lock(&costs.shortest).len(), MAX_TRACKED_SHAPES);
    }

    #[test]
    fn a_full_tracker_keeps_the_slowest_shape() {
        let costs = ShapeCosts::default();
        for iterations in 1..=16 {
            costs.record(
                &HashShape::Pbkdf2Sha256 { iterations },
                Duration::from_micros(u64::from(iterations)),
            );
        }
        // Seen after the tracker filled up: the costliest of all.
        let slowest = HashShape::argon2id(&Params::new(65536, 3, 1, None).unwrap());
        costs.record(&slowest, Duration::from_millis(600));
        assert_eq!(
            costs.slowest(),
            Some(slowest.clone()),
            "the dummy follows it"
        );
        let tracked = lock(&costs.shortest);
        assert_eq!(tracked.len(), MAX_TRACKED_SHAPES);
        assert!(
            !tracked
                .iter()
                .any(|(shape, _)| *shape == HashShape::Pbkdf2Sha256 { iterations: 1 }),
            "the cheapest made room"
        );
        drop(tracked);
        // A shape cheaper than every tracked one is not kept, yet padded by
        // the time its own verification took.
        let cheap = HashShape::argon2id(&Params::new(8, 1, 1, None).unwrap());
        costs.record(&cheap, Duration::from_nanos(1));
        assert_ne!(costs.slowest(), Some(cheap.clone()));
        assert!(!lock(&costs.shortest)
            .iter()
            .any(|(shape, _)| *shape == cheap));
        // ~600 ms at 1 µs per iteration.
        let padding = costs.padding_for(&cheap, Duration::from_nanos(1));
        assert!((599_000..=600_000).contains(&padding), "{padding}");
    }
}
