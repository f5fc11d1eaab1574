//! Refresh-token rotations per second per store backend.
//!
//! Each measured iteration of `rotate/…` is one `TokenStore::rotate` of a
//! chain (the successor of one rotation is presented to the next), as the
//! refresh endpoint does; each of `refresh endpoint/…` is one whole
//! `POST /api/token/refresh/` through `RefreshLayer` (body parsing, verify,
//! rotation, two new tokens, the JSON answer), chained the same way.
//! Baselines measured in the same run: the in-memory store, and for the
//! networked backends one bare round trip (`SELECT 1`, `PING`).
//!
//! `cargo bench --bench rotation --all-features` (PostgreSQL and Redis on 127.0.0.1).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use tokio::runtime::Runtime;
use tower_simplejwt::clock::{SharedClock, SystemClock};
use tower_simplejwt::store::{
    MemoryTokenStore, RecordedToken, Rotation, RotationOutcome, RotationRules, TokenStore,
};

/// An HS256 secret: 32 bytes or more.
const SECRET: &str = "benchmark-secret, 32 bytes or more";

fn jti() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Times `iters` rotations of one chain.
async fn rotate_chain(store: &dyn TokenStore, iters: u64) -> Duration {
    let clock: SharedClock = Arc::new(SystemClock);
    let subject = format!("bench-{}", rand::random::<u32>());
    let expires_at = clock.now() + 3600;
    let mut current = RecordedToken::new(jti(), &subject, expires_at);
    store.record(current.clone()).await.expect("record");
    let start = Instant::now();
    for _ in 0..iters {
        let successor = RecordedToken::new(jti(), &subject, expires_at);
        let rotation = Rotation {
            presented: current,
            successor: successor.clone(),
            sealed_successor: None,
            rules: RotationRules::default(),
        };
        let outcome = store.rotate(rotation, clock.clone()).await.expect("rotate");
        assert_eq!(outcome, RotationOutcome::Rotated);
        current = successor;
    }
    start.elapsed()
}

/// Times `iters` calls to the refresh endpoint, each presenting the refresh
/// token the previous one returned.
async fn refresh_chain(store: Arc<dyn TokenStore>, iters: u64) -> Duration {
    use http_body_util::{BodyExt, Full};
    use tower::{Layer, ServiceExt};
    use tower_simplejwt::config::JwtConfig;
    use tower_simplejwt::credentials::{
        MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
    };
    use tower_simplejwt::http::RefreshLayer;
    use tower_simplejwt::Jwt;

    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
        .shared_token_store(store.clone())
        .build()
        .unwrap();
    let pair = jwt.codec().mint_pair("1", &serde_json::Map::new()).unwrap();
    // Recorded as a login records it: unrecorded tokens are refused by default.
    let claims = &pair.refresh.claims;
    store
        .record(tower_simplejwt::store::RecordedToken::new(
            &claims.jti,
            "1",
            claims.exp,
        ))
        .await
        .unwrap();
    let mut refresh = pair.refresh.token;
    let not_found = tower::service_fn(|_: http::Request<Full<bytes::Bytes>>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Full::<bytes::Bytes>::default()))
    });
    let endpoint = RefreshLayer::new(jwt).layer(not_found);
    let start = Instant::now();
    for _ in 0..iters {
        let request = http::Request::post("/api/token/refresh/")
            .header("content-type", "application/json")
            .body(Full::from(format!(r#"{{"refresh":"{refresh}"}}"#)))
            .unwrap();
        let response = endpoint.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        refresh = answer["refresh"].as_str().unwrap().to_owned();
    }
    start.elapsed()
}

fn bench_store(c: &mut Criterion, runtime: &Runtime, name: &str, store: Arc<dyn TokenStore>) {
    c.bench_function(&format!("rotate/{name}"), |b| {
        b.iter_custom(|iters| runtime.block_on(rotate_chain(&*store, iters)))
    });
    c.bench_function(&format!("refresh endpoint/{name}"), |b| {
        b.iter_custom(|iters| runtime.block_on(refresh_chain(store.clone(), iters)))
    });
}

fn rotations(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    bench_store(c, &runtime, "memory", Arc::new(MemoryTokenStore::new()));

    #[cfg(feature = "sqlite")]
    {
        use tower_simplejwt::store::sqlite::SqliteTokenStore;
        let dir =
            std::env::temp_dir().join(format!("tower-simplejwt-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
        let store = runtime
            .block_on(SqliteTokenStore::connect(&url))
            .expect("sqlite");
        bench_store(c, &runtime, "sqlite", Arc::new(store));
    }

    #[cfg(feature = "postgres")]
    {
        use tower_simplejwt::store::postgres::PostgresTokenStore;
        let store = runtime
            .block_on(PostgresTokenStore::connect(
                "postgres://postgres@127.0.0.1:5432/test",
            ))
            .expect("PostgreSQL on 127.0.0.1:5432");
        let pool = store.pool().clone();
        c.bench_function("round-trip/postgres SELECT 1", |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        sqlx::query("SELECT 1").execute(&pool).await.unwrap();
                    }
                    start.elapsed()
                })
            })
        });
        bench_store(c, &runtime, "postgres", Arc::new(store));
    }

    #[cfg(feature = "redis")]
    {
        use tower_simplejwt::store::redis::RedisTokenStore;
        let store = runtime
            .block_on(RedisTokenStore::connect_with_namespace(
                "redis://127.0.0.1:6379/",
                "simplejwt-bench",
            ))
            .expect("Redis on 127.0.0.1:6379");
        let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap();
        let mut connection = runtime
            .block_on(client.get_multiplexed_async_connection())
            .unwrap();
        c.bench_function("round-trip/redis PING", |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let _: String = redis::cmd("PING")
                            .query_async(&mut connection)
                            .await
                            .unwrap();
                    }
                    start.elapsed()
                })
            })
        });
        bench_store(c, &runtime, "redis", Arc::new(store));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = rotations
}
criterion_main!(benches);
