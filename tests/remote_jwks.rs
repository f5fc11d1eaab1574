//! Trusting another issuer through its published JWKS, against a local
//! issuer over real HTTP that counts its requests and can go down.
#![cfg(feature = "remote-jwks")]

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use http::{Request, Response};
use http_body_util::Full;
use jsonwebtoken::jwk::JwkSet;
use serde_json::Map;
use tower::{Layer, ServiceExt};
use tower_simplejwt::auth::AuthLayer;
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::keys::{Key, KeySet};
use tower_simplejwt::remote::{RemoteError, RemoteIssuer, RemoteIssuers, RemoteSettings};
use tower_simplejwt::token::TokenCodec;
use tower_simplejwt::{Algorithm, Jwt};

const ISSUER: &str = "http://issuer.test";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn key(algorithm: Algorithm, file: &str, kid: &str) -> Key {
    Key::from_pem(algorithm, Some(&fixture(file)), None)
        .unwrap()
        .with_kid(kid)
}

/// The issuer's JWKS endpoint: what it publishes, whether it is up, how often it was asked.
#[derive(Clone, Default)]
struct Published {
    keys: Arc<Mutex<JwkSet>>,
    down: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

async fn jwks(State(published): State<Published>) -> Result<Json<JwkSet>, StatusCode> {
    published.requests.fetch_add(1, Ordering::SeqCst);
    if published.down.load(Ordering::SeqCst) {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    Ok(Json(published.keys.lock().unwrap().clone()))
}

async fn serve_issuer(published: Published) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/jwks.json", get(jwks))
        .with_state(published);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The issuer's own codec: mints tokens with `iss` and the given signing key.
fn issuer_codec(clock: &ManualClock, signing: Key, others: Vec<Key>) -> TokenCodec {
    let config = JwtConfig::simplejwt_guide("unused, yet of at least 32 bytes").with_issuer(ISSUER);
    let codec = TokenCodec::with_clock(&config, Arc::new(clock.clone())).unwrap();
    codec.set_key_set(KeySet::new(signing, others).unwrap());
    codec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_issuer_keys_are_fetched_once_cached_and_rate_limited() {
    let published = Published::default();
    let url = serve_issuer(published.clone()).await;
    let a = key(Algorithm::ES256, "ec256_private.pem", "a");
    let b = key(Algorithm::EdDSA, "ed25519_private.pem", "b");
    let c = key(Algorithm::RS256, "rsa_private.pem", "c");
    *published.keys.lock().unwrap() = KeySet::new(a.clone(), []).unwrap().jwks();

    // The verifying server: its own HS256 key for its own tokens, and the issuer's keys.
    let clock = ManualClock::new(1_800_000_000);
    let config = JwtConfig::simplejwt_guide("a local secret of 32 bytes or more");
    let settings = RemoteSettings {
        refresh_interval: Duration::from_secs(3600),
        min_refetch_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(5),
    };
    let remote = RemoteIssuers::start(
        &config,
        vec![RemoteIssuer::new(ISSUER, &url)],
        settings,
        Arc::new(clock.clone()),
    )
    .await
    .expect("the first fetch succeeds");
    assert_eq!(published.requests.load(Ordering::SeqCst), 1);
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let jwt = Jwt::builder(config)
        .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
        .remote_issuers(remote.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let app = AuthLayer::new(jwt.clone()).layer(tower::service_fn(
        |_: Request<Full<bytes::Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::<bytes::Bytes>::default()))
        },
    ));
    let call = |token: String| {
        let app = app.clone();
        async move {
            let request = Request::get("/api/me/")
                .header("authorization", format!("Bearer {token}"))
                .body(Full::default())
                .unwrap();
            app.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    let mint = |codec: &TokenCodec| codec.mint_pair("1", &Map::new()).unwrap().access.token;

    // A token of the issuer's current key, and one of our own, both pass.
    let token_a = mint(&issuer_codec(&clock, a.clone(), vec![]));
    assert_eq!(call(token_a.clone()).await, 200);
    assert_eq!(
        call(mint(jwt.codec())).await,
        200,
        "our own tokens still verify locally"
    );

    // A new key appears: 100 concurrent requests with its kid cause exactly one refetch.
    clock.advance(Duration::from_secs(61));
    *published.keys.lock().unwrap() = KeySet::new(b.clone(), [a.clone()]).unwrap().jwks();
    let token_b = mint(&issuer_codec(&clock, b.clone(), vec![a.clone()]));
    let tasks: Vec<_> = (0..100)
        .map(|_| tokio::spawn(call(token_b.clone())))
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(
        published.requests.load(Ordering::SeqCst),
        2,
        "one refetch for 100 requests naming the new kid"
    );

    // The issuer goes down: the cached keys keep verifying.
    published.down.store(true, Ordering::SeqCst);
    assert_eq!(call(token_a.clone()).await, 200);
    assert_eq!(call(token_b.clone()).await, 200);

    // A flood of random kids (tokens signed by a key nobody published) is
    // refused, and cannot make us ask the issuer more than the rate allows.
    published.down.store(false, Ordering::SeqCst);
    let stranger = key(Algorithm::ES384, "ec384_private.pem", "unused");
    let before = published.requests.load(Ordering::SeqCst);
    for i in 0..50 {
        let forged = mint(&issuer_codec(
            &clock,
            stranger.clone().with_kid(format!("random-{i}")),
            vec![],
        ));
        assert_eq!(call(forged).await, 401);
    }
    assert_eq!(
        published.requests.load(Ordering::SeqCst),
        before,
        "no refetch within the minimum interval"
    );
    clock.advance(Duration::from_secs(61));
    for i in 0..50 {
        let forged = mint(&issuer_codec(
            &clock,
            stranger.clone().with_kid(format!("again-{i}")),
            vec![],
        ));
        assert_eq!(call(forged).await, 401);
    }
    assert_eq!(
        published.requests.load(Ordering::SeqCst),
        before + 1,
        "at most one refetch per interval"
    );

    // The issuer rotates to a new key: picked up once the interval allows.
    clock.advance(Duration::from_secs(61));
    *published.keys.lock().unwrap() = KeySet::new(c.clone(), [b.clone()]).unwrap().jwks();
    let token_c = mint(&issuer_codec(&clock, c, vec![b]));
    assert_eq!(call(token_c).await, 200);
    assert_eq!(
        remote.fetches(ISSUER),
        Some(published.requests.load(Ordering::SeqCst) as u64)
    );
}

#[tokio::test]
async fn a_first_fetch_that_fails_is_a_clear_start_up_error() {
    let published = Published::default();
    published.down.store(true, Ordering::SeqCst);
    let url = serve_issuer(published).await;
    let error = RemoteIssuers::start(
        &JwtConfig::new("local"),
        vec![RemoteIssuer::new(ISSUER, &url)],
        RemoteSettings::default(),
        Arc::new(ManualClock::new(0)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, RemoteError::Fetch { cause, .. } if cause.contains("503")),
        "{error}"
    );
    assert!(error.to_string().contains(ISSUER));
}
