//! Requests per second of `GET /api/me/` under a real HTTP load generator
//! (wrk, Debian package `wrk`): the same axum handler unprotected, behind
//! `AuthLayer`, and verifying with plain `jsonwebtoken::decode`, in one run.
//!
//! `cargo bench --bench load` (or `-- SECONDS CONNECTIONS ROUNDS`). The
//! servers run in this process on one worker thread, pinned to the first
//! CPU; wrk runs with one thread pinned to the second (with `taskset`, when
//! it is there), so both get the same core for every variant. Rounds
//! interleave the variants, each round starting with the next one; each
//! round's ratio compares measurements taken seconds apart, and their median
//! is reported beside the ratio of the means, so a slow spell of a shared
//! machine moves neither much. The server's user and kernel CPU time per
//! request are reported too: they do not depend on how busy wrk is.

use std::process::Command;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_simplejwt::auth::AuthLayer;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::Jwt;

const SECRET: &str = "load-test-secret-of-a-sensible-length";

#[derive(Deserialize)]
#[allow(dead_code)]
struct ContractClaims {
    token_type: String,
    exp: u64,
    iat: u64,
    jti: String,
    user_id: String,
}

struct Plain {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
    authenticator: Arc<dyn Authenticator>,
}

async fn open() -> Json<Value> {
    Json(json!({"username": "alice"}))
}

async fn protected(Extension(subject): Extension<Subject>) -> Json<Value> {
    Json(json!({"username": subject.username}))
}

/// What a handler written with plain jsonwebtoken does: verify, look the user up.
async fn plain_jsonwebtoken(
    State(plain): State<Arc<Plain>>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let data = jsonwebtoken::decode::<ContractClaims>(token, &plain.key, &plain.validation)
        .map_err(|_| StatusCode::UNAUTHORIZED)?;
    let subject = plain
        .authenticator
        .subject(&data.claims.user_id)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    Ok(Json(json!({"username": subject.username})))
}

/// Pins every thread of this process to CPU 0, so that wrk can have CPU 1;
/// false when `taskset` (util-linux) is missing or refused.
fn pin_servers() -> bool {
    Command::new("taskset")
        .args(["-apc", "0", &std::process::id().to_string()])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// One wrk run: requests per second, and this process's CPU time per
/// request while it ran, in user space and in the kernel (from /proc).
struct Measurement {
    rate: f64,
    user_per_request: f64,
    system_per_request: f64,
}

/// CPU time this process has used in user space and in the kernel, in
/// seconds (Linux: /proc/self/stat).
fn process_cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which ends with the last ')'):
    // utime and stime are the 12th and 13th, in clock ticks of 1/100 s.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks = |index: usize| fields[index].parse::<u64>().unwrap() as f64 / 100.0;
    (ticks(11), ticks(12))
}

fn wrk(port: u16, token: &str, seconds: u64, connections: u64, pinned: bool) -> Measurement {
    let mut command = match pinned {
        true => {
            let mut command = Command::new("taskset");
            command.args(["-c", "1", "wrk"]);
            command
        }
        false => Command::new("wrk"),
    };
    let cpu_before = process_cpu_seconds();
    let output = command
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("http://127.0.0.1:{port}/api/me/"))
        .output()
        .expect("wrk must be installed (apt-get install wrk)");
    let cpu_after = process_cpu_seconds();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "every answer must be 200:\n{text}"
    );
    let rate: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"));
    let requests: f64 = text
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk's output:\n{text}"));
    Measurement {
        rate,
        user_per_request: (cpu_after.0 - cpu_before.0) / requests,
        system_per_request: (cpu_after.1 - cpu_before.1) / requests,
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let (seconds, connections, rounds) = (
        args.first().copied().unwrap_or(2),
        args.get(1).copied().unwrap_or(32),
        args.get(2).copied().unwrap_or(15),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (ports, token) = runtime.block_on(async {
        let users = MemoryUserStore::new();
        users.create("alice", "unused", true).await.unwrap();
        let authenticator: Arc<dyn Authenticator> =
            Arc::new(PasswordAuthenticator::new(users, PasswordHasher::default()));
        let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET))
            .shared_authenticator(authenticator.clone())
            .build()
            .unwrap();
        let token = jwt
            .codec()
            .mint_pair("1", &serde_json::Map::new())
            .unwrap()
            .access
            .token;
        let mut uncached_config = JwtConfig::simplejwt_guide(SECRET);
        uncached_config.verified_token_cache_capacity = 0;
        let uncached = Jwt::builder(uncached_config)
            .shared_authenticator(authenticator.clone())
            .build()
            .unwrap();
        let plain = Arc::new(Plain {
            key: jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            validation: jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
            authenticator,
        });
        let routers = [
            Router::new().route("/api/me/", get(open)),
            Router::new()
                .route("/api/me/", get(protected))
                .layer(AuthLayer::new(jwt)),
            Router::new()
                .route("/api/me/", get(protected))
                .layer(AuthLayer::new(uncached)),
            Router::new()
                .route("/api/me/", get(plain_jsonwebtoken))
                .with_state(plain),
        ];
        #[allow(unused_mut)]
        let mut routers = routers.to_vec();
        #[allow(unused_mut)]
        let mut tokens = vec![token.clone(); routers.len()];
        #[cfg(feature = "remote-jwks")]
        {
            let (local, local_token, remote, remote_token) = remote_variants().await;
            routers.push(local);
            tokens.push(local_token);
            routers.push(remote);
            tokens.push(remote_token);
        }
        let mut ports = Vec::new();
        for router in routers {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ports.push(listener.local_addr().unwrap().port());
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        }
        (ports, tokens)
    });
    let names = [
        "unprotected handler",
        "AuthLayer",
        "AuthLayer, verified-token cache off",
        "plain jsonwebtoken in the handler",
        "AuthLayer, local ES256 key",
        "AuthLayer, remote issuer's ES256 key",
    ];
    let pinned = pin_servers();
    println!(
        "servers {} wrk",
        match pinned {
            true => "pinned to CPU 0,",
            false => "and wrk not pinned (no taskset):",
        }
    );
    // rates[variant][round], and CPU per request
    let mut rates = vec![Vec::new(); ports.len()];
    let mut user = vec![Vec::new(); ports.len()];
    let mut system = vec![Vec::new(); ports.len()];
    for round in 1..=rounds {
        // Each round starts with another variant, so none always follows the same one.
        for step in 0..ports.len() {
            let index = (step + round as usize - 1) % ports.len();
            let port = &ports[index];
            let measured = wrk(*port, &token[index], seconds, connections, pinned);
            println!(
                "round {round}: {:<38} {:>10.0} requests/s  server CPU per request: {:>5.2} µs user, {:>5.2} µs kernel",
                names[index],
                measured.rate,
                measured.user_per_request * 1e6,
                measured.system_per_request * 1e6,
            );
            rates[index].push(measured.rate);
            user[index].push(measured.user_per_request * 1e6);
            system[index].push(measured.system_per_request * 1e6);
        }
    }
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    println!("\n{rounds} rounds of {seconds} s, {connections} connections:");
    println!(
        "{:<38} {:>9}  {:>8}  {:>8}  {:>21}  versus",
        "", "mean rps", "ratio", "median", "server CPU / request"
    );
    for (index, rounds) in rates.iter().enumerate() {
        // The remote issuer's key is compared with the local ES256 key.
        let baseline = match index {
            5 => 4,
            _ => 0,
        };
        let mut ratios: Vec<f64> = rounds
            .iter()
            .zip(&rates[baseline])
            .map(|(rate, base)| rate / base)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let median = (ratios[(ratios.len() - 1) / 2] + ratios[ratios.len() / 2]) / 2.0;
        println!(
            "{:<38} {:>9.0}  {:>7.3}×  {:>7.3}×  {:>5.2} user {:>5.2} kernel  {} (rounds {:.3}–{:.3})",
            names[index],
            mean(rounds),
            mean(rounds) / mean(&rates[baseline]),
            median,
            mean(&user[index]),
            mean(&system[index]),
            names[baseline],
            ratios[0],
            ratios[ratios.len() - 1],
        );
    }
    println!(
        "\nratio: of the mean rates; median: of the rounds' ratios; CPU in µs of the \
         server process per request (user space, kernel), from /proc/self/stat"
    );
}

/// The same route verifying ES256 tokens with a local key, and with a remote
/// issuer's key fetched from its JWKS (served here on another port).
#[cfg(feature = "remote-jwks")]
async fn remote_variants() -> (Router, String, Router, String) {
    use tower_simplejwt::clock::SystemClock;
    use tower_simplejwt::keys::{Key, KeySet};
    use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};

    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keys/ec256_private.pem"
    ))
    .unwrap();
    let key = Key::from_pem(jsonwebtoken::Algorithm::ES256, Some(&pem), None).unwrap();
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let authenticator: Arc<dyn Authenticator> =
        Arc::new(PasswordAuthenticator::new(users, PasswordHasher::default()));

    let issuer = "http://issuer.bench";
    let local_config = JwtConfig::simplejwt_guide(SECRET).with_issuer(issuer);
    let local = Jwt::builder(local_config.clone())
        .shared_authenticator(authenticator.clone())
        .build()
        .unwrap();
    local
        .codec()
        .set_key_set(KeySet::new(key.clone(), []).unwrap());
    let token = local
        .codec()
        .mint_pair("1", &serde_json::Map::new())
        .unwrap()
        .access
        .token;

    let jwks = serde_json::to_value(local.codec().key_set().jwks()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let published = Router::new().route("/jwks.json", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, published).await.unwrap() });
    let config = JwtConfig::simplejwt_guide(SECRET);
    let remote = RemoteIssuers::start(
        &config,
        vec![RemoteIssuer::new(issuer, url)],
        RemoteSettings::default(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let verifier = Jwt::builder(config)
        .shared_authenticator(authenticator)
        .remote_issuers(remote)
        .build()
        .unwrap();

    let local_router = Router::new()
        .route("/api/me/", get(protected))
        .layer(AuthLayer::new(local));
    let remote_router = Router::new()
        .route("/api/me/", get(protected))
        .layer(AuthLayer::new(verifier));
    (local_router, token.clone(), remote_router, token)
}
