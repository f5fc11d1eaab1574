//! Trusting another issuer through its published JWKS, against a local
//! issuer over real HTTP that counts its requests and can go down.
//!
//! The local issuer speaks plain HTTP, so the tests that fetch from it take
//! the `danger_allow_plain_http_for_tests` opt-in; the ones without it show
//! that the default refuses plain HTTP before sending anything.
#![cfg(feature = "remote-jwks")]

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use jsonwebtoken::jwk::{JwkSet, KeyOperations, PublicKeyUse};
use serde_json::{json, Map, Value};
use tower::{Layer, ServiceExt};
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::{AutoRefreshSettings, JwtConfig};
use tower_simplejwt::credentials::UserStoreError;
use tower_simplejwt::credentials::{
    Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, RemoteSubject, Subject,
    UserStore,
};
use tower_simplejwt::future::BoxFuture;
use tower_simplejwt::keys::{Key, KeySet};
use tower_simplejwt::remote::{RemoteError, RemoteIssuer, RemoteIssuers, RemoteSettings};
use tower_simplejwt::token::{Claims, TokenCodec};
use tower_simplejwt::AuthLayer;
use tower_simplejwt::{Algorithm, Jwt, JwtLayer};

const ISSUER: &str = "http://issuer.test";
/// The name the issuer gives the verifying service.
const AUDIENCE: &str = "https://api.verifier.test";
const LOCAL_SECRET: &str = "the verifying server's own secret, 32+ bytes";
const UNUSED_SECRET: &str = "unused by the issuer, which signs with its keys";

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

/// The issuer's documents: what it publishes, whether it is up, how often it was asked.
#[derive(Clone, Default)]
struct Published {
    keys: Arc<Mutex<JwkSet>>,
    down: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    /// Where it is served (`http://127.0.0.1:PORT`).
    base: Arc<OnceLock<String>>,
    /// The `issuer` its discovery document gives (default: `base`).
    discovery_names: Arc<Mutex<Option<String>>>,
    /// Held for writing, it keeps key requests waiting (after counting them).
    paused: Arc<tokio::sync::RwLock<()>>,
}

impl Published {
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn publish(&self, keys: JwkSet) {
        *self.keys.lock().unwrap() = keys;
    }
}

async fn jwks(State(published): State<Published>) -> Result<Json<JwkSet>, StatusCode> {
    published.requests.fetch_add(1, Ordering::SeqCst);
    let _unpaused = published.paused.read().await;
    if published.down.load(Ordering::SeqCst) {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    Ok(Json(published.keys.lock().unwrap().clone()))
}

async fn discovery(State(published): State<Published>) -> Json<Value> {
    published.requests.fetch_add(1, Ordering::SeqCst);
    let base = published.base.get().cloned().unwrap_or_default();
    let issuer = published
        .discovery_names
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| base.clone());
    Json(json!({"issuer": issuer, "jwks_uri": format!("{base}/jwks.json")}))
}

/// Serves the issuer on a free port; returns its base URL.
async fn serve_issuer(published: Published) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    published.base.set(base.clone()).unwrap();
    let app = Router::new()
        .route("/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
        .with_state(published);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The issuer's own codec: mints tokens with `iss`, `aud` and the given signing key.
fn issuer_codec(clock: &ManualClock, audience: Option<&str>, signing: Key) -> TokenCodec {
    codec_of(ISSUER, clock, audience, signing)
}

/// A codec minting tokens that say they are `iss`'s.
fn codec_of(iss: &str, clock: &ManualClock, audience: Option<&str>, signing: Key) -> TokenCodec {
    let mut config = JwtConfig::simplejwt_guide(UNUSED_SECRET).with_issuer(iss);
    config.audience = audience.map(str::to_owned);
    let codec = TokenCodec::with_clock(&config, Arc::new(clock.clone())).unwrap();
    codec.set_key_set(KeySet::new(signing, []).unwrap());
    codec
}

fn mint(codec: &TokenCodec, user_id: &str) -> String {
    codec.mint_pair(user_id, &Map::new()).unwrap().access.token
}

fn for_tests(settings: RemoteSettings) -> RemoteSettings {
    RemoteSettings {
        danger_allow_plain_http_for_tests: true,
        ..settings
    }
}

/// An authenticator over users in memory that counts subject lookups.
#[derive(Debug)]
struct CountingAuthenticator {
    inner: PasswordAuthenticator<MemoryUserStore>,
    lookups: Arc<AtomicUsize>,
}

impl Authenticator for CountingAuthenticator {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        self.inner.authenticate(username, password)
    }

    fn subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.subject(id)
    }

    fn subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.subject_now(id)
    }
}

/// A handler that reports who the request was authenticated as.
async fn who(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let extensions = request.extensions();
    let local = extensions.get::<Subject>().map(
        |subject| json!({"id": subject.id, "username": subject.username, "issuer": subject.issuer}),
    );
    let remote = extensions
        .get::<RemoteSubject>()
        .map(|RemoteSubject(subject)| json!({"id": subject.id, "issuer": subject.issuer}));
    let body = json!({"local": local, "remote": remote}).to_string();
    Ok(Response::new(Full::from(body)))
}

/// The verifying server: its own HS256 tokens and users (alice is user
/// "1"), the token endpoints, and the remote issuers.
struct Verifier {
    jwt: Jwt,
    lookups: Arc<AtomicUsize>,
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
}

impl Verifier {
    async fn new(clock: &ManualClock, config: JwtConfig, remote: Arc<RemoteIssuers>) -> Verifier {
        let hasher = PasswordHasher::argon2id(1024, 1, 1).unwrap();
        let users = MemoryUserStore::new();
        let alice = users
            .create("alice", &hasher.hash("wonderland-42").unwrap(), true)
            .await
            .unwrap();
        assert_eq!(alice.id, "1");
        users.create("mallory", "unused", false).await.unwrap();
        let lookups = Arc::new(AtomicUsize::new(0));
        let jwt = Jwt::builder(config)
            .authenticator(CountingAuthenticator {
                inner: PasswordAuthenticator::new(users, hasher),
                lookups: lookups.clone(),
            })
            .remote_issuers(remote)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        Verifier { jwt, lookups }
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Answer {
        let app = JwtLayer::new(self.jwt.clone()).layer(tower::service_fn(who));
        let response = app.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, token: &str) -> Answer {
        self.send(
            Request::get("/api/me/")
                .header("authorization", format!("Bearer {token}"))
                .body(Full::default())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            Request::post(path)
                .header("content-type", "application/json")
                .body(Full::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

/// The contract's wrapped 401 on a protected route, with its message.
fn refused_with(answer: &Answer, message: &str) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.body["code"], "token_not_valid", "{}", answer.body);
    assert_eq!(
        answer.body["messages"][0]["message"], message,
        "{}",
        answer.body
    );
    assert_eq!(answer.headers["www-authenticate"], "Bearer realm=\"api\"");
}

/// The issuer, serving key `a` (ES256), and a verifier trusting it with
/// the opt-in for plain HTTP.
async fn trusted_issuer(
    clock: &ManualClock,
    issuer: impl FnOnce(RemoteIssuer) -> RemoteIssuer,
    settings: RemoteSettings,
) -> (Published, Key, Arc<RemoteIssuers>, Verifier) {
    let published = Published::default();
    let base = serve_issuer(published.clone()).await;
    let a = key(Algorithm::ES256, "ec256_private.pem", "a");
    published.publish(KeySet::new(a.clone(), []).unwrap().jwks());
    let remote = RemoteIssuers::start(
        &JwtConfig::simplejwt_guide(LOCAL_SECRET),
        vec![issuer(RemoteIssuer::new(
            ISSUER,
            format!("{base}/jwks.json"),
        ))],
        for_tests(settings),
        Arc::new(clock.clone()),
    )
    .await
    .expect("the first fetch succeeds");
    let mut config =
        JwtConfig::simplejwt_guide(LOCAL_SECRET).with_auto_refresh(AutoRefreshSettings::enabled());
    config.reuse_grace = Duration::from_secs(10);
    let verifier = Verifier::new(clock, config, remote.clone()).await;
    (published, a, remote, verifier)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_issuer_keys_are_fetched_once_cached_and_rate_limited() {
    let published = Published::default();
    let base = serve_issuer(published.clone()).await;
    let a = key(Algorithm::ES256, "ec256_private.pem", "a");
    let b = key(Algorithm::EdDSA, "ed25519_private.pem", "b");
    let c = key(Algorithm::RS256, "rsa_private.pem", "c");
    published.publish(KeySet::new(a.clone(), []).unwrap().jwks());

    // The verifying server: its own HS256 key for its own tokens, and the issuer's keys.
    let clock = ManualClock::new(1_800_000_000);
    let config = JwtConfig::simplejwt_guide(LOCAL_SECRET);
    let settings = RemoteSettings {
        refresh_interval: Duration::from_secs(3600),
        min_refetch_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(5),
        ..for_tests(RemoteSettings::default())
    };
    let remote = RemoteIssuers::start(
        &config,
        vec![RemoteIssuer::new(ISSUER, format!("{base}/jwks.json")).with_audience(AUDIENCE)],
        settings,
        Arc::new(clock.clone()),
    )
    .await
    .expect("the first fetch succeeds");
    assert_eq!(published.requests(), 1);
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
    let issuer_mint =
        |signing: &Key| mint(&issuer_codec(&clock, Some(AUDIENCE), signing.clone()), "1");

    // A token of the issuer's current key, and one of our own, both pass.
    let token_a = issuer_mint(&a);
    assert_eq!(call(token_a.clone()).await, 200);
    assert_eq!(
        call(mint(jwt.codec(), "1")).await,
        200,
        "our own tokens still verify locally"
    );

    // A new key appears: 100 concurrent requests with its kid cause exactly one refetch.
    clock.advance(Duration::from_secs(61));
    published.publish(KeySet::new(b.clone(), [a.clone()]).unwrap().jwks());
    let token_b = issuer_mint(&b);
    let tasks: Vec<_> = (0..100)
        .map(|_| tokio::spawn(call(token_b.clone())))
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(
        published.requests(),
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
    let before = published.requests();
    for i in 0..50 {
        let forged = issuer_mint(&stranger.clone().with_kid(format!("random-{i}")));
        assert_eq!(call(forged).await, 401);
    }
    assert_eq!(
        published.requests(),
        before,
        "no refetch within the minimum interval"
    );
    clock.advance(Duration::from_secs(61));
    for i in 0..50 {
        let forged = issuer_mint(&stranger.clone().with_kid(format!("again-{i}")));
        assert_eq!(call(forged).await, 401);
    }
    assert_eq!(
        published.requests(),
        before + 1,
        "at most one refetch per interval"
    );

    // The issuer rotates to a new key: picked up once the interval allows.
    clock.advance(Duration::from_secs(61));
    published.publish(KeySet::new(c.clone(), [b.clone()]).unwrap().jwks());
    assert_eq!(call(issuer_mint(&c)).await, 200);
    assert_eq!(remote.fetches(ISSUER), Some(published.requests() as u64));
}

#[tokio::test]
async fn a_first_fetch_that_fails_is_a_clear_start_up_error() {
    let published = Published::default();
    published.down.store(true, Ordering::SeqCst);
    let base = serve_issuer(published).await;
    let error = RemoteIssuers::start(
        &JwtConfig::new(LOCAL_SECRET),
        vec![RemoteIssuer::new(ISSUER, format!("{base}/jwks.json")).with_audience(AUDIENCE)],
        for_tests(RemoteSettings::default()),
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

#[tokio::test]
async fn remote_http_is_refused_without_the_opt_in() {
    let published = Published::default();
    let base = serve_issuer(published.clone()).await;
    published.publish(
        KeySet::new(key(Algorithm::ES256, "ec256_private.pem", "a"), [])
            .unwrap()
            .jwks(),
    );
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let config = JwtConfig::simplejwt_guide(LOCAL_SECRET);

    // A plain-HTTP key URL: refused at start-up, before anything is fetched.
    let jwks_url = format!("{base}/jwks.json");
    let error = RemoteIssuers::start(
        &config,
        vec![RemoteIssuer::new(ISSUER, &jwks_url).with_audience(AUDIENCE)],
        RemoteSettings::default(),
        clock.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error,
        RemoteError::InsecureUrl {
            issuer: ISSUER.into(),
            url: jwks_url.clone()
        }
    );
    assert!(error.to_string().contains("https://"), "{error}");

    // A plain-HTTP issuer: its discovery document is not even asked for.
    let error = RemoteIssuer::discover(&base).await.unwrap_err();
    assert!(matches!(error, RemoteError::InsecureUrl { .. }), "{error}");
    assert_eq!(
        published.requests(),
        0,
        "nothing was fetched over plain HTTP"
    );

    // (An HTTPS discovery document whose `jwks_uri` is `http://` is refused
    // by the same check on the document: see the unit test
    // `an_https_discovery_document_pointing_at_plain_http_keys_is_refused`.)

    // With the opt-in, the same issuer is discovered and trusted.
    let settings = for_tests(RemoteSettings::default());
    let discovered = RemoteIssuer::discover_with(&base, &settings).await.unwrap();
    assert_eq!(discovered.issuer(), base);
    assert_eq!(discovered.jwks_url(), jwks_url);
    let remote = RemoteIssuers::start(
        &config,
        vec![discovered.with_audience(AUDIENCE)],
        settings,
        clock,
    )
    .await
    .unwrap();
    assert_eq!(remote.fetches(&base), Some(1));
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let published = Published::default();
    let base = serve_issuer(published.clone()).await;
    let settings = for_tests(RemoteSettings::default());
    for impostor in [
        "https://accounts.example".to_owned(),
        format!("{base}/"),
        base.replace("127.0.0.1", "localhost"),
    ] {
        *published.discovery_names.lock().unwrap() = Some(impostor.clone());
        let error = RemoteIssuer::discover_with(&base, &settings)
            .await
            .unwrap_err();
        assert_eq!(
            error,
            RemoteError::IssuerMismatch {
                configured: base.clone(),
                discovered: impostor
            }
        );
    }
    *published.discovery_names.lock().unwrap() = None;
    assert!(RemoteIssuer::discover_with(&base, &settings).await.is_ok());
}

#[tokio::test]
async fn an_issuer_needs_an_audience_and_an_iss_of_its_own() {
    let published = Published::default();
    let base = serve_issuer(published.clone()).await;
    let jwks_url = format!("{base}/jwks.json");
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let settings = for_tests(RemoteSettings::default());
    let start = |config: JwtConfig, issuers: Vec<RemoteIssuer>| {
        let (settings, clock) = (settings.clone(), clock.clone());
        async move { RemoteIssuers::start(&config, issuers, settings, clock).await }
    };
    let local = JwtConfig::simplejwt_guide(LOCAL_SECRET);

    let error = start(local.clone(), vec![RemoteIssuer::new(ISSUER, &jwks_url)])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        RemoteError::MissingAudience {
            issuer: ISSUER.into()
        }
    );
    let twice = RemoteIssuer::new(ISSUER, &jwks_url).with_audience(AUDIENCE);
    assert_eq!(
        start(local.clone(), vec![twice.clone(), twice.clone()])
            .await
            .unwrap_err(),
        RemoteError::AmbiguousIssuer {
            issuer: ISSUER.into()
        }
    );
    assert_eq!(
        start(local.clone().with_issuer(ISSUER), vec![twice])
            .await
            .unwrap_err(),
        RemoteError::AmbiguousIssuer {
            issuer: ISSUER.into()
        },
        "a remote issuer with our own `iss`"
    );
    assert_eq!(published.requests(), 0, "refused before any fetch");

    let waived = RemoteIssuer::new(ISSUER, &jwks_url).danger_accept_any_audience();
    assert!(start(local, vec![waived]).await.is_ok());
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let clock = ManualClock::new(1_800_000_000);
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE),
        RemoteSettings::default(),
    )
    .await;

    let ours = mint(&issuer_codec(&clock, Some(AUDIENCE), a.clone()), "1");
    assert_eq!(verifier.get(&ours).await.status, 200);
    // The same issuer, the same key, minted for another service or for none.
    for audience in [Some("https://billing.test"), Some(""), None] {
        let token = mint(&issuer_codec(&clock, audience, a.clone()), "1");
        refused_with(&verifier.get(&token).await, "Token is invalid");
        // The same refusal in gRPC's terms.
        let grpc = verifier
            .send(
                Request::post("/greeter.v1.Greeter/SayHello")
                    .header("content-type", "application/grpc")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Full::default())
                    .unwrap(),
            )
            .await;
        assert_eq!(grpc.headers["grpc-status"], "16");
        assert_eq!(grpc.headers["grpc-message"], "Token is invalid");
    }

    // Waived, the audience is not looked at: documented, and shown here.
    let clock = ManualClock::new(1_800_000_000);
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        RemoteIssuer::danger_accept_any_audience,
        RemoteSettings::default(),
    )
    .await;
    let elsewhere = mint(&issuer_codec(&clock, Some("https://billing.test"), a), "1");
    assert_eq!(verifier.get(&elsewhere).await.status, 200);
}

#[tokio::test]
async fn a_remote_user_1_is_never_the_local_user_1() {
    let clock = ManualClock::new(1_800_000_000);
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE),
        RemoteSettings::default(),
    )
    .await;
    let issuer = issuer_codec(&clock, Some(AUDIENCE), a);

    // Our own alice is user "1".
    let alice = verifier.get(&mint(verifier.jwt.codec(), "1")).await;
    assert_eq!(alice.status, 200);
    assert_eq!(alice.body["local"]["username"], "alice");
    assert_eq!(alice.body["remote"], Value::Null);
    let lookups = verifier.lookups();
    assert!(lookups > 0, "local tokens are looked up");

    // The issuer's user "1", first use and then from the verified-token
    // cache: a remote subject, never the local alice, and the user store
    // is not asked.
    let remote_1 = mint(&issuer, "1");
    for _ in 0..2 {
        let answer = verifier.get(&remote_1).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["local"], Value::Null, "{}", answer.body);
        assert_eq!(answer.body["remote"], json!({"id": "1", "issuer": ISSUER}));
    }
    // A remote id of an inactive local user, or of no local user, is not
    // refused as such either: it is not ours to judge.
    for id in ["2", "404"] {
        let answer = verifier.get(&mint(&issuer, id)).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["remote"]["id"], id);
        assert_eq!(answer.body["local"], Value::Null);
    }
    assert_eq!(
        verifier.lookups(),
        lookups,
        "no remote id reached the user store"
    );

    // Over gRPC the same: the call sees a remote subject only.
    let grpc = verifier
        .send(
            Request::post("/greeter.v1.Greeter/SayHello")
                .header("content-type", "application/grpc")
                .header("authorization", format!("Bearer {remote_1}"))
                .body(Full::default())
                .unwrap(),
        )
        .await;
    assert_eq!(grpc.status, 200);
    assert_eq!(grpc.body["local"], Value::Null);
    assert_eq!(grpc.body["remote"]["issuer"], ISSUER);

    // The token endpoints are for our own tokens: a remote token does not verify there.
    for (path, field) in [
        ("/api/token/verify/", "token"),
        ("/api/token/refresh/", "refresh"),
        ("/api/token/blacklist/", "refresh"),
    ] {
        let answer = verifier.post(path, json!({ field: remote_1 })).await;
        assert_eq!(answer.status, 401, "{path}: {}", answer.body);
        assert_eq!(answer.body["detail"], "Token is invalid", "{path}");
    }
}

#[tokio::test]
async fn an_expired_remote_token_is_never_refreshed_as_the_local_user() {
    let clock = ManualClock::new(1_800_000_000);
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE),
        RemoteSettings::default(),
    )
    .await;
    let login = verifier
        .post(
            "/api/token/",
            json!({"username": "alice", "password": "wonderland-42"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let alice_access = login.body["access"].as_str().unwrap().to_owned();
    let alice_refresh = login.body["refresh"].as_str().unwrap().to_owned();
    let remote_1 = mint(&issuer_codec(&clock, Some(AUDIENCE), a), "1");

    clock.advance(Duration::from_secs(2 * 60 * 60 + 1));
    let with_refresh = |access: &str| {
        Request::get("/api/me/")
            .header("authorization", format!("Bearer {access}"))
            .header("x-refresh-token", &alice_refresh)
            .body(Full::default())
            .unwrap()
    };
    // The remote user "1"'s expired token with alice's refresh token: refused, nothing rotated.
    let answer = verifier.send(with_refresh(&remote_1)).await;
    refused_with(&answer, "Token is expired");
    assert!(answer.headers.get("x-access-token").is_none());
    // Alice's own expired token with her refresh token is refreshed (the
    // refresh token was not used up above).
    let answer = verifier.send(with_refresh(&alice_access)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.headers.get("x-access-token").is_some());
    assert_eq!(answer.body["local"]["username"], "alice");
}

#[tokio::test]
async fn a_subject_mapping_is_the_only_way_to_a_local_user() {
    let clock = ManualClock::new(1_800_000_000);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let mapping = move |remote: &Subject, claims: &Claims| {
        log.lock()
            .unwrap()
            .push((remote.clone(), claims.jti.clone()));
        match remote.id.as_str() {
            "alice@issuer" => Some(Subject::new("1", "alice", true)),
            "mallory@issuer" => Some(Subject::new("2", "mallory", false)),
            _ => None,
        }
    };
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE).with_subject_mapping(mapping),
        RemoteSettings::default(),
    )
    .await;
    let issuer = issuer_codec(&clock, Some(AUDIENCE), a);

    let linked = verifier.get(&mint(&issuer, "alice@issuer")).await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    assert_eq!(
        linked.body["local"],
        json!({"id": "1", "username": "alice", "issuer": null})
    );
    assert_eq!(
        linked.body["remote"],
        json!({"id": "alice@issuer", "issuer": ISSUER})
    );
    let asked_about = asked.lock().unwrap()[0].0.clone();
    assert_eq!(asked_about, Subject::remote(ISSUER, "alice@issuer"));

    // The remote "1" is mapped to nobody: it stays remote.
    let unlinked = verifier.get(&mint(&issuer, "1")).await;
    assert_eq!(unlinked.status, 200);
    assert_eq!(unlinked.body["local"], Value::Null);

    // A mapping to an inactive local user is refused as that user would be.
    let inactive = verifier.get(&mint(&issuer, "mallory@issuer")).await;
    assert_eq!(inactive.status, 401);
    assert_eq!(
        inactive.body,
        json!({"detail": "User is inactive", "code": "user_inactive"})
    );
    assert_eq!(
        verifier.lookups(),
        0,
        "the mapping, not an id match, decided"
    );
}

#[tokio::test]
async fn keys_not_for_signing_never_verify() {
    let clock = ManualClock::new(1_800_000_000);
    let (published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE),
        RemoteSettings::default(),
    )
    .await;
    let b = key(Algorithm::EdDSA, "ed25519_private.pem", "b");
    let c = key(Algorithm::RS256, "rsa_private.pem", "c");
    let d = key(Algorithm::ES384, "ec384_private.pem", "d");
    let mut keys = KeySet::new(a.clone(), [b.clone(), c.clone(), d.clone()])
        .unwrap()
        .jwks();
    for jwk in &mut keys.keys {
        match jwk.common.key_id.as_deref() {
            Some("a") => jwk.common.public_key_use = Some(PublicKeyUse::Signature),
            Some("b") => jwk.common.public_key_use = Some(PublicKeyUse::Encryption),
            Some("c") => jwk.common.key_operations = Some(vec![KeyOperations::Encrypt]),
            _ => jwk.common.key_operations = Some(vec![KeyOperations::Verify]),
        }
    }
    published.publish(keys);
    clock.advance(Duration::from_secs(11));
    let signed_by = |key: &Key| mint(&issuer_codec(&clock, Some(AUDIENCE), key.clone()), "1");
    // `d` is new: its kid makes us fetch the set with the marked keys.
    assert_eq!(verifier.get(&signed_by(&d)).await.status, 200);
    assert_eq!(verifier.get(&signed_by(&a)).await.status, 200);
    refused_with(&verifier.get(&signed_by(&b)).await, "Token is invalid");
    refused_with(&verifier.get(&signed_by(&c)).await, "Token is invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_an_issuer_unreachable_past_max_key_age_are_not_used() {
    let clock = ManualClock::new(1_800_000_000);
    let settings = RemoteSettings {
        refresh_interval: Duration::from_secs(3600),
        min_refetch_interval: Duration::from_secs(60),
        max_key_age: Duration::from_secs(3600),
        ..RemoteSettings::default()
    };
    let (published, a, remote, verifier) =
        trusted_issuer(&clock, |issuer| issuer.with_audience(AUDIENCE), settings).await;
    let issuer = issuer_codec(&clock, Some(AUDIENCE), a);
    // Lives 2 hours; used twice, so the verified-token cache remembers it.
    let token = mint(&issuer, "1");
    assert_eq!(verifier.get(&token).await.status, 200);
    assert_eq!(verifier.get(&token).await.status, 200);

    // The issuer goes down: its keys serve up to max_key_age after the last fetch.
    published.down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        verifier.get(&token).await.status,
        200,
        "exactly max_key_age old"
    );
    assert_eq!(
        published.requests(),
        1,
        "no fetch while the keys are young enough"
    );

    clock.advance(Duration::from_secs(1));
    let before = published.requests();
    // The first request past max_key_age refetches; the issuer holds that
    // fetch while 20 more requests come: they wait for it, then are refused
    // without a fetch of their own, as the first one is.
    let verifier = Arc::new(verifier);
    let pause = published.paused.clone().write_owned().await;
    let get = |token: String| {
        let verifier = verifier.clone();
        tokio::spawn(async move { verifier.get(&token).await })
    };
    let first = get(token.clone());
    while published.requests() == before {
        tokio::task::yield_now().await;
    }
    let waiting: Vec<_> = (0..20).map(|_| get(token.clone())).collect();
    drop(pause);
    refused_with(&first.await.unwrap(), "Token is invalid");
    for answer in waiting {
        refused_with(&answer.await.unwrap(), "Token is invalid");
    }
    assert_eq!(published.requests(), before + 1, "one refetch was tried");
    refused_with(&verifier.get(&mint(&issuer, "1")).await, "Token is invalid");
    refused_with(&verifier.get(&token).await, "Token is invalid");
    assert_eq!(
        published.requests(),
        before + 1,
        "refetches stay rate-limited"
    );

    // The issuer comes back: the next allowed refetch restores its tokens.
    published.down.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_secs(60));
    assert_eq!(verifier.get(&token).await.status, 200);
    assert_eq!(remote.fetches(ISSUER), Some(published.requests() as u64));
}

/// `GET path` on an axum app with `Authorization: Bearer token`: the status and the body as text.
#[cfg(feature = "axum")]
async fn get_as_bearer(app: Router, path: &str, token: String) -> (u16, String) {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// axum handlers tell the two apart by the extractor they take: `Subject`
/// is a local user only, `RemoteSubject` another issuer's.
#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_extractors_keep_remote_subjects_apart() {
    let clock = ManualClock::new(1_800_000_000);
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE),
        RemoteSettings::default(),
    )
    .await;
    async fn local(subject: Subject) -> String {
        format!("local {}", subject.username)
    }
    async fn remote(RemoteSubject(subject): RemoteSubject) -> String {
        format!(
            "remote {} of {}",
            subject.id,
            subject.issuer.unwrap_or_default()
        )
    }
    async fn either(local: Option<Subject>, remote: Option<RemoteSubject>) -> String {
        format!("{:?} {:?}", local.map(|s| s.id), remote.map(|r| r.0.id))
    }
    let app = Router::new()
        .route("/local/", get(local))
        .route("/remote/", get(remote))
        .route("/either/", get(either))
        .route_layer(AuthLayer::new(verifier.jwt.clone()));
    let call = |path: &'static str, token: String| get_as_bearer(app.clone(), path, token);
    let remote_1 = mint(&issuer_codec(&clock, Some(AUDIENCE), a), "1");
    let alice = mint(verifier.jwt.codec(), "1");

    let (status, body) = call("/local/", remote_1.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(
        call("/remote/", remote_1.clone()).await,
        (200, format!("remote 1 of {ISSUER}"))
    );
    assert_eq!(
        call("/either/", remote_1).await,
        (200, "None Some(\"1\")".to_owned())
    );
    assert_eq!(
        call("/local/", alice.clone()).await,
        (200, "local alice".to_owned())
    );
    assert_eq!(call("/remote/", alice.clone()).await.0, 401);
    assert_eq!(
        call("/either/", alice).await,
        (200, "Some(\"1\") None".to_owned())
    );
}

#[tokio::test]
async fn two_issuers_never_share_subjects_or_keys() {
    let clock = ManualClock::new(1_800_000_000);
    let second = "https://second.issuer.test";
    let (first_keys, second_keys) = (Published::default(), Published::default());
    let first_base = serve_issuer(first_keys.clone()).await;
    let second_base = serve_issuer(second_keys.clone()).await;
    let a = key(Algorithm::ES256, "ec256_private.pem", "a");
    let b = key(Algorithm::EdDSA, "ed25519_private.pem", "b");
    first_keys.publish(KeySet::new(a.clone(), []).unwrap().jwks());
    second_keys.publish(KeySet::new(b.clone(), []).unwrap().jwks());
    let remote = RemoteIssuers::start(
        &JwtConfig::simplejwt_guide(LOCAL_SECRET),
        vec![
            RemoteIssuer::new(ISSUER, format!("{first_base}/jwks.json")).with_audience(AUDIENCE),
            RemoteIssuer::new(second, format!("{second_base}/jwks.json")).with_audience(AUDIENCE),
        ],
        for_tests(RemoteSettings::default()),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let verifier = Verifier::new(&clock, JwtConfig::simplejwt_guide(LOCAL_SECRET), remote).await;

    // User "1" of each issuer: two remote subjects, told apart by issuer.
    for (iss, signing) in [(ISSUER, &a), (second, &b)] {
        let token = mint(&codec_of(iss, &clock, Some(AUDIENCE), signing.clone()), "1");
        let answer = verifier.get(&token).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["remote"], json!({"id": "1", "issuer": iss}));
        assert_eq!(answer.body["local"], Value::Null);
    }

    // The first issuer (or whoever holds its key) cannot speak for the
    // second: not with its own kid, not with the second's kid, not after
    // the second's key set was refetched for the unknown kid.
    clock.advance(Duration::from_secs(11));
    for kid in ["a", "b", "a"] {
        let forged = mint(
            &codec_of(second, &clock, Some(AUDIENCE), a.clone().with_kid(kid)),
            "1",
        );
        refused_with(&verifier.get(&forged).await, "Token is invalid");
    }
    assert_eq!(
        second_keys.requests(),
        2,
        "one refetch for the unknown kid, then rate-limited"
    );
}

/// Role claims an issuer may put in its tokens.
#[cfg(feature = "axum")]
#[derive(serde::Deserialize)]
struct Role {
    role: String,
}

/// A remote token's claims are never the local `Claims`: axum's `Claims`
/// and `Claims<Role>` extractors answer it as an anonymous request, with or
/// without a subject mapping; `RemoteClaims` carries them with the issuer.
#[cfg(feature = "axum")]
#[tokio::test]
async fn a_remote_user_1_never_gets_local_claims_in_axum() {
    let clock = ManualClock::new(1_800_000_000);
    let mapping = |remote: &Subject, _: &Claims| {
        (remote.id == "alice@issuer").then(|| Subject::new("1", "alice", true))
    };
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE).with_subject_mapping(mapping),
        RemoteSettings::default(),
    )
    .await;
    async fn claims(claims: Claims) -> String {
        format!("local {}", claims.subject().unwrap_or_default())
    }
    async fn role(claims: Claims<Role>) -> String {
        format!("local role {}", claims.extra.role)
    }
    use tower_simplejwt::credentials::RemoteClaims;

    async fn remote(remote: RemoteClaims) -> String {
        let role = remote.claims.extra.get("role").cloned();
        format!(
            "remote {} of {} {role:?}",
            remote.claims.subject().unwrap_or_default(),
            remote.issuer
        )
    }
    async fn either(local: Option<Claims>, remote: Option<RemoteClaims>) -> String {
        format!("{} {}", local.is_some(), remote.is_some())
    }
    let app = Router::new()
        .route("/claims/", get(claims))
        .route("/role/", get(role))
        .route("/remote/", get(remote))
        .route("/either/", get(either))
        .route_layer(AuthLayer::new(verifier.jwt.clone()));
    let call = |path: &'static str, token: String| get_as_bearer(app.clone(), path, token);
    let admin = serde_json::from_value::<Map<String, Value>>(json!({"role": "admin"})).unwrap();
    let issuer = issuer_codec(&clock, Some(AUDIENCE), a);
    let remote_token = |id: &str| issuer.mint_pair(id, &admin).unwrap().access.token;
    let alice = verifier
        .jwt
        .codec()
        .mint_pair("1", &admin)
        .unwrap()
        .access
        .token;
    let not_provided = json!({"detail": "Authentication credentials were not provided."});

    // The issuer's user "1" (unmapped) and the issuer's alice (mapped to ours).
    for (id, token) in [
        ("1", remote_token("1")),
        ("alice@issuer", remote_token("alice@issuer")),
    ] {
        for path in ["/claims/", "/role/"] {
            let (status, body) = call(path, token.clone()).await;
            assert_eq!(status, 401, "{path} {id}: {body}");
            assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), not_provided);
        }
        assert_eq!(
            call("/remote/", token.clone()).await,
            (
                200,
                format!("remote {id} of {ISSUER} Some(String(\"admin\"))")
            )
        );
        assert_eq!(
            call("/either/", token).await,
            (200, "false true".to_owned())
        );
    }
    // Our own alice keeps her claims.
    assert_eq!(
        call("/claims/", alice.clone()).await,
        (200, "local 1".to_owned())
    );
    assert_eq!(
        call("/role/", alice.clone()).await,
        (200, "local role admin".to_owned())
    );
    assert_eq!(call("/remote/", alice.clone()).await.0, 401);
    assert_eq!(
        call("/either/", alice).await,
        (200, "true false".to_owned())
    );
}

/// Over gRPC, `RequestAuth::claims` is for our own tokens only; a remote
/// token's claims are `RequestAuth::remote_claims`.
#[cfg(feature = "tonic")]
#[tokio::test]
async fn a_remote_user_1_never_gets_local_claims_over_grpc() {
    use tower_simplejwt::grpc::RequestAuth;

    let clock = ManualClock::new(1_800_000_000);
    let mapping = |remote: &Subject, _: &Claims| {
        (remote.id == "alice@issuer").then(|| Subject::new("1", "alice", true))
    };
    let (_published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE).with_subject_mapping(mapping),
        RemoteSettings::default(),
    )
    .await;
    async fn call(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
        let request = tonic::Request::from_http(request);
        let body = json!({
            "claims": request.claims().and_then(|claims| claims.subject().map(str::to_owned)),
            "remote_claims": request.remote_claims().map(|remote| {
                json!({"sub": remote.claims.subject(), "issuer": remote.issuer})
            }),
        });
        Ok(Response::new(Full::from(body.to_string())))
    }
    let app = JwtLayer::new(verifier.jwt.clone()).layer(tower::service_fn(call));
    let send = |token: String| {
        let app = app.clone();
        async move {
            let request = Request::post("/greeter.v1.Greeter/SayHello")
                .header("content-type", "application/grpc")
                .header("authorization", format!("Bearer {token}"))
                .body(Full::default())
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }
    };
    let issuer = issuer_codec(&clock, Some(AUDIENCE), a);
    for id in ["1", "alice@issuer"] {
        assert_eq!(
            send(mint(&issuer, id)).await,
            json!({"claims": null, "remote_claims": {"sub": id, "issuer": ISSUER}})
        );
    }
    assert_eq!(
        send(mint(verifier.jwt.codec(), "1")).await,
        json!({"claims": "1", "remote_claims": null})
    );
}

/// A foreign token over `max_token_bytes` is refused before its payload is
/// read: its `iss` names no issuer, so its unknown `kid` fetches nothing.
#[tokio::test]
async fn an_oversized_remote_token_is_not_read() {
    let clock = ManualClock::new(1_800_000_000);
    let (published, a, _remote, verifier) = trusted_issuer(
        &clock,
        |issuer| issuer.with_audience(AUDIENCE),
        RemoteSettings::default(),
    )
    .await;
    clock.advance(Duration::from_secs(11));
    let max = JwtConfig::simplejwt_guide(LOCAL_SECRET).max_token_bytes;
    let padding =
        serde_json::from_value::<Map<String, Value>>(json!({"pad": "x".repeat(max)})).unwrap();
    let unknown_kid = issuer_codec(&clock, Some(AUDIENCE), a.with_kid("unknown"));
    let oversized = unknown_kid.mint_pair("1", &padding).unwrap().access.token;
    assert!(oversized.len() > max);
    let before = published.requests();
    refused_with(&verifier.get(&oversized).await, "Token is invalid");
    assert_eq!(
        published.requests(),
        before,
        "the oversized token's iss and kid were not acted on"
    );
    // A token of the usual size with that kid does make us fetch.
    verifier.get(&mint(&unknown_kid, "1")).await;
    assert_eq!(published.requests(), before + 1);
}
