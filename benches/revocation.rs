//! Revoking a refresh-token family with 1 and with 1,000,000 past rotations,
//! per store backend, in one run.
//!
//! Each measured iteration is one `TokenStore::rotate` of a used token after
//! the grace window: reuse, which revokes the whole family (what a replayed
//! stolen token costs). Between iterations, untimed, the family is put back
//! as it was (not revoked, the presented token used). The family of
//! 1,000,000 is built in bulk (memory: directly; SQL: one `INSERT … SELECT`;
//! Redis: pipelined) and deleted at the end; its 1-rotation twin is the
//! baseline.
//!
//! `cargo bench --bench revocation --all-features` (PostgreSQL and Redis on 127.0.0.1).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tokio::runtime::Runtime;
use tower_simplejwt::clock::{SharedClock, SystemClock};
use tower_simplejwt::store::{
    MemoryTokenStore, RecordedToken, Refusal, Rotation, RotationOutcome, RotationRules, TokenStore,
};

const SIZES: [u64; 2] = [1, 1_000_000];

type Reset = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// One family ready to be revoked: the used token whose replay revokes it,
/// and how to put it back.
struct Family {
    presented: RecordedToken,
    reset: Reset,
}

fn jti() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn expires_at() -> u64 {
    tower_simplejwt::clock::Clock::now(&SystemClock) + 3600
}

/// Times `iters` revocations of `family`.
async fn revoke(store: &dyn TokenStore, family: &Family, iters: u64) -> Duration {
    let clock: SharedClock = Arc::new(SystemClock);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        (family.reset)().await;
        let rotation = Rotation {
            presented: family.presented.clone(),
            successor: RecordedToken::new(jti(), &family.presented.subject, expires_at()),
            sealed_successor: None,
            rules: RotationRules::default(),
        };
        let start = Instant::now();
        let outcome = store.rotate(rotation, clock.clone()).await.expect("rotate");
        total += start.elapsed();
        assert_eq!(outcome, RotationOutcome::Refused(Refusal::Reused));
    }
    total
}

fn bench_family(
    c: &mut Criterion,
    runtime: &Runtime,
    backend: &str,
    store: &dyn TokenStore,
    family: &Family,
    rotations: u64,
) {
    c.bench_function(
        &format!("revoke family/{backend}/{rotations} past rotations"),
        |b| b.iter_custom(|iters| runtime.block_on(revoke(store, family, iters))),
    );
}

fn memory(c: &mut Criterion, runtime: &Runtime) {
    let store = Arc::new(MemoryTokenStore::new());
    for rotations in SIZES {
        let subject = format!("bench-{}", rand::random::<u32>());
        let current = RecordedToken::new(jti(), &subject, expires_at());
        let first = store.record_rotated_family(&current, rotations);
        let presented = RecordedToken::new(first, &subject, expires_at());
        let reset_store = store.clone();
        let reset_token = presented.clone();
        let family = Family {
            presented,
            reset: Box::new(move || {
                reset_store.reinstate_used(&reset_token);
                Box::pin(async {})
            }),
        };
        bench_family(c, runtime, "memory", &*store, &family, rotations);
    }
}

#[cfg(feature = "sqlite")]
fn sqlite(c: &mut Criterion, runtime: &Runtime) {
    use tower_simplejwt::store::sqlite::SqliteTokenStore;
    let dir =
        std::env::temp_dir().join(format!("tower-simplejwt-revocation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
    let store = runtime
        .block_on(SqliteTokenStore::connect(&url))
        .expect("sqlite");
    for rotations in SIZES {
        let current = RecordedToken::new(
            jti(),
            format!("bench-{}", rand::random::<u32>()),
            expires_at(),
        );
        let pool = store.pool().clone();
        runtime.block_on(async {
            store.record(current.clone()).await.unwrap();
            sqlx::query(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
                 INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, rotated_at, keep_until)
                 SELECT printf('%s-%d', ?, n), ?, ?, ?, 'used', 0, ? FROM g",
            )
            .bind(rotations as i64)
            .bind(&current.jti)
            .bind(&current.subject)
            .bind(&current.jti)
            .bind(current.expires_at as i64)
            .bind(current.retained_until() as i64)
            .execute(&pool)
            .await
            .unwrap();
        });
        let presented =
            RecordedToken::new(format!("{}-1", current.jti), &current.subject, expires_at());
        let (reset_pool, family_id, presented_jti) =
            (pool.clone(), current.jti.clone(), presented.jti.clone());
        let family = Family {
            presented,
            reset: Box::new(move || {
                let (pool, family_id, presented_jti) =
                    (reset_pool.clone(), family_id.clone(), presented_jti.clone());
                Box::pin(async move {
                    sqlx::query("UPDATE simplejwt_refresh_tokens SET state = 'used' WHERE jti = ?")
                        .bind(&presented_jti)
                        .execute(&pool)
                        .await
                        .unwrap();
                    sqlx::query(
                        "UPDATE simplejwt_refresh_families SET revoked = 0 WHERE family = ?",
                    )
                    .bind(&family_id)
                    .execute(&pool)
                    .await
                    .unwrap();
                })
            }),
        };
        bench_family(c, runtime, "sqlite", &store, &family, rotations);
    }
    runtime.block_on(store.pool().close());
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(feature = "postgres")]
fn postgres(c: &mut Criterion, runtime: &Runtime) {
    use tower_simplejwt::store::postgres::PostgresTokenStore;
    let store = runtime
        .block_on(PostgresTokenStore::connect(
            "postgres://postgres@127.0.0.1:5432/test",
        ))
        .expect("PostgreSQL on 127.0.0.1:5432");
    for rotations in SIZES {
        let current = RecordedToken::new(
            jti(),
            format!("bench-{}", rand::random::<u32>()),
            expires_at(),
        );
        let pool = store.pool().clone();
        runtime.block_on(async {
            store.record(current.clone()).await.unwrap();
            sqlx::query(
                "INSERT INTO simplejwt_refresh_tokens (jti, subject, family, expires_at, state, rotated_at, keep_until)
                 SELECT $1 || '-' || n, $2, $1, $3, 'used', 0, $4 FROM generate_series(1, $5) n",
            )
            .bind(&current.jti)
            .bind(&current.subject)
            .bind(current.expires_at as i64)
            .bind(current.retained_until() as i64)
            .bind(rotations as i64)
            .execute(&pool)
            .await
            .unwrap();
            // As a running deployment would have them: statistics, and no
            // autovacuum of a million fresh rows during the measurement.
            sqlx::query("VACUUM ANALYZE simplejwt_refresh_tokens")
                .execute(&pool)
                .await
                .unwrap();
        });
        let presented =
            RecordedToken::new(format!("{}-1", current.jti), &current.subject, expires_at());
        let (reset_pool, family_id, presented_jti) =
            (pool.clone(), current.jti.clone(), presented.jti.clone());
        let family = Family {
            presented,
            reset: Box::new(move || {
                let (pool, family_id, presented_jti) =
                    (reset_pool.clone(), family_id.clone(), presented_jti.clone());
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'used' WHERE jti = $1",
                    )
                    .bind(&presented_jti)
                    .execute(&pool)
                    .await
                    .unwrap();
                    sqlx::query(
                        "UPDATE simplejwt_refresh_families SET revoked = FALSE WHERE family = $1",
                    )
                    .bind(&family_id)
                    .execute(&pool)
                    .await
                    .unwrap();
                })
            }),
        };
        bench_family(c, runtime, "postgres", &store, &family, rotations);
        runtime.block_on(async {
            sqlx::query("DELETE FROM simplejwt_refresh_tokens WHERE family = $1")
                .bind(&current.jti)
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("DELETE FROM simplejwt_refresh_families WHERE family = $1")
                .bind(&current.jti)
                .execute(&pool)
                .await
                .unwrap();
        });
    }
}

#[cfg(feature = "redis")]
fn redis_backend(c: &mut Criterion, runtime: &Runtime) {
    use redis::AsyncCommands;
    use tower_simplejwt::store::redis::RedisTokenStore;
    let namespace = "simplejwt-bench-revocation";
    let store = runtime
        .block_on(RedisTokenStore::connect_with_namespace(
            "redis://127.0.0.1:6379/",
            namespace,
        ))
        .expect("Redis on 127.0.0.1:6379");
    let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap();
    let connection = runtime
        .block_on(client.get_multiplexed_async_connection())
        .unwrap();
    for rotations in SIZES {
        let subject = format!("bench-{}", rand::random::<u32>());
        let current = RecordedToken::new(jti(), &subject, expires_at());
        let first = runtime
            .block_on(store.record_rotated_family(&current, rotations))
            .unwrap();
        let presented = RecordedToken::new(first, &subject, expires_at());
        let prefix = format!("{namespace}:{{{subject}}}:");
        let (token_key, family_key) = (
            format!("{prefix}t:{}", presented.jti),
            format!("{prefix}fam:{}", current.jti),
        );
        let reset_connection = connection.clone();
        let family = Family {
            presented,
            reset: Box::new(move || {
                let mut connection = reset_connection.clone();
                let (token_key, family_key) = (token_key.clone(), family_key.clone());
                Box::pin(async move {
                    let _: () = connection.hset(&token_key, "state", "used").await.unwrap();
                    let _: () = connection.hset(&family_key, "revoked", "0").await.unwrap();
                })
            }),
        };
        bench_family(c, runtime, "redis", &store, &family, rotations);
        runtime.block_on(async {
            let mut connection = connection.clone();
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{prefix}*"))
                    .arg("COUNT")
                    .arg(10_000)
                    .query_async(&mut connection)
                    .await
                    .unwrap();
                if !keys.is_empty() {
                    let _: () = redis::cmd("UNLINK")
                        .arg(&keys)
                        .query_async(&mut connection)
                        .await
                        .unwrap();
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        });
    }
}

fn revocations(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    memory(c, &runtime);
    #[cfg(feature = "sqlite")]
    sqlite(c, &runtime);
    #[cfg(feature = "postgres")]
    postgres(c, &runtime);
    #[cfg(feature = "redis")]
    redis_backend(c, &runtime);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = revocations
}
criterion_main!(benches);
