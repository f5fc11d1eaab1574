//! Whether a login's time tells an unknown username from a real one.
//!
//! Each measured iteration is one failed `POST /api/token/` through
//! `IssueLayer` (body parsing, user lookup, password check within the login
//! limit, the 401 answer), with the example server's hasher (argon2id, 19
//! MiB, 2 passes) and users in memory:
//! - `unknown user`: a username that does not exist;
//! - `migrated pbkdf2 user, wrong password`: a user moved over from Django
//!   with its `pbkdf2_sha256` hash at Django 5.2's 1 000 000 iterations;
//! - `argon2 user, wrong password`: a user created here (its check is
//!   padded with pbkdf2 iterations up to the cost of the slowest hash);
//! - `unknown user, before any pbkdf2 check`: a fresh server that has not
//!   verified a Django hash yet (what every server did before the dummy
//!   followed the slowest hash: the issue's ~10× gap).
//!
//! The ratio that matters, unknown ÷ migrated, is first measured in pairs
//! (the two logins alternate, 15 pairs, median and quartiles of the pairs'
//! ratios: the machine's speed drifts between criterion's benchmarks), then
//! criterion gives the means.
//!
//! `cargo bench --bench login_timing`

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body_util::Full;
use tokio::runtime::Runtime;
use tower::util::BoxCloneService;
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::http::IssueLayer;
use tower_simplejwt::http::ResponseBody;
use tower_simplejwt::Jwt;

const SECRET: &str = "login-timing-bench-secret-of-32-bytes!";
/// Django 5.2's `PBKDF2PasswordHasher.iterations`.
const DJANGO_ITERATIONS: u32 = 1_000_000;

type Endpoint = BoxCloneService<
    Request<Full<Bytes>>,
    Response<ResponseBody<Full<Bytes>>>,
    std::convert::Infallible,
>;

/// `password` hashed as Django 5.2 writes it into `auth_user.password`.
fn django_hash(password: &str) -> String {
    let salt = "benchsaltbenchsalt1234";
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        DJANGO_ITERATIONS,
        &mut derived,
    );
    format!(
        "pbkdf2_sha256${DJANGO_ITERATIONS}${salt}${}",
        STANDARD.encode(derived)
    )
}

/// The obtain endpoint over alice (argon2) and carol (migrated from Django).
async fn endpoint(carol_hash: &str) -> Endpoint {
    let hasher = PasswordHasher::default();
    let users = MemoryUserStore::new();
    let alice = hasher.hash("wonderland-42").expect("hash");
    users.create("alice", &alice, true).await.expect("alice");
    users
        .create("carol", carol_hash, true)
        .await
        .expect("carol");
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false))
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .build()
        .expect("jwt");
    let not_found = service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
    });
    BoxCloneService::new(IssueLayer::new(jwt).layer(not_found))
}

/// One login; panics unless it gets `expected`.
async fn login(endpoint: &Endpoint, username: &str, password: &str, expected: u16) {
    let body = format!(r#"{{"username": "{username}", "password": "{password}"}}"#);
    let request = Request::post("/api/token/")
        .header("content-type", "application/json")
        .body(Full::from(body))
        .expect("request");
    let response = endpoint.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), expected, "{username}");
}

fn unknown_name() -> String {
    format!("nobody-{:016x}", rand::random::<u64>())
}

fn elapsed(runtime: &Runtime, future: impl std::future::Future<Output = ()>) -> Duration {
    let start = Instant::now();
    runtime.block_on(future);
    start.elapsed()
}

fn quartiles(mut ratios: Vec<f64>) -> (f64, f64, f64) {
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

fn login_timing(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let carol_hash = django_hash("builder-42");
    let fresh = runtime.block_on(endpoint(&carol_hash));
    let server = runtime.block_on(endpoint(&carol_hash));
    // Carol logs in once: the server has now verified a Django hash.
    runtime.block_on(login(&server, "carol", "builder-42", 200));

    let mut ratios = Vec::new();
    let mut before = Vec::new();
    let mut argon2 = Vec::new();
    for pair in 0..15 {
        let name = unknown_name();
        let unknown = || login(&server, &name, "guess", 401);
        let migrated = || login(&server, "carol", "guess", 401);
        let (unknown, migrated) = if pair % 2 == 0 {
            let unknown = elapsed(&runtime, unknown());
            (unknown, elapsed(&runtime, migrated()))
        } else {
            let migrated = elapsed(&runtime, migrated());
            (elapsed(&runtime, unknown()), migrated)
        };
        ratios.push(unknown.as_secs_f64() / migrated.as_secs_f64());
        let unknown_fresh = elapsed(&runtime, login(&fresh, &unknown_name(), "guess", 401));
        before.push(unknown_fresh.as_secs_f64() / migrated.as_secs_f64());
        let argon2_user = elapsed(&runtime, login(&server, "alice", "guess", 401));
        argon2.push(argon2_user.as_secs_f64() / migrated.as_secs_f64());
    }
    let (low, median, high) = quartiles(ratios);
    println!("paired: unknown user ÷ migrated pbkdf2 user, wrong password: median {median:.3}× (quartiles {low:.3}–{high:.3})");
    let (low, median, high) = quartiles(argon2);
    println!("paired: argon2 user, wrong password ÷ migrated pbkdf2 user, wrong password: median {median:.3}× (quartiles {low:.3}–{high:.3})");
    let (low, median, high) = quartiles(before);
    println!("paired: unknown user before any pbkdf2 check ÷ migrated pbkdf2 user: median {median:.3}× (quartiles {low:.3}–{high:.3})");

    let mut group = c.benchmark_group("failed login");
    group.sample_size(10);
    group.bench_function("unknown user", |b| {
        b.iter(|| runtime.block_on(login(&server, &unknown_name(), "guess", 401)))
    });
    group.bench_function("migrated pbkdf2 user, wrong password", |b| {
        b.iter(|| runtime.block_on(login(&server, "carol", "guess", 401)))
    });
    group.bench_function("argon2 user, wrong password", |b| {
        b.iter(|| runtime.block_on(login(&server, "alice", "guess", 401)))
    });
    group.bench_function("unknown user, before any pbkdf2 check", |b| {
        b.iter(|| runtime.block_on(login(&fresh, &unknown_name(), "guess", 401)))
    });
    group.finish();
}

criterion_group!(benches, login_timing);
criterion_main!(benches);
