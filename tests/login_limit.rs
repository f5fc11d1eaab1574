//! The login limit seen from the obtain endpoint: logins beyond it get the
//! contract's 503, and places are given back when logins end or are dropped.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tokio::sync::{Notify, Semaphore};
use tower::util::BoxCloneService;
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::UserStoreError;
use tower_simplejwt::credentials::{
    CreateUserError, LoginLimit, MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject,
    User, UserStore,
};
use tower_simplejwt::future::BoxFuture;
use tower_simplejwt::http::IssueLayer;
use tower_simplejwt::http::ResponseBody;
use tower_simplejwt::Jwt;

const SECRET: &str = "login-limit-test-secret-of-32-bytes";

type Endpoint = BoxCloneService<
    Request<Full<Bytes>>,
    Response<ResponseBody<Full<Bytes>>>,
    std::convert::Infallible,
>;

/// Users in memory whose username lookups wait at a gate the test opens,
/// so a login can be held inside the limit for as long as the test wants.
#[derive(Debug)]
struct GatedUsers {
    users: MemoryUserStore,
    gate: Arc<Semaphore>,
    entered: Arc<Notify>,
}

impl UserStore for GatedUsers {
    fn find_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        Box::pin(async move {
            self.entered.notify_one();
            let pass = self.gate.acquire().await.expect("the gate stays open");
            pass.forget();
            self.users.find_by_username(username).await
        })
    }

    fn find_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        self.users.find_by_id(id)
    }

    fn find_subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        self.users.find_subject(id)
    }

    fn create<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        is_active: bool,
    ) -> BoxFuture<'a, Result<User, CreateUserError>> {
        self.users.create(username, password_hash, is_active)
    }
}

struct Setup {
    endpoint: Endpoint,
    gate: Arc<Semaphore>,
    entered: Arc<Notify>,
}

/// The obtain endpoint with at most one login served at once.
fn one_login_at_a_time() -> Setup {
    let (gate, entered) = (Arc::new(Semaphore::new(0)), Arc::new(Notify::new()));
    let users = GatedUsers {
        users: MemoryUserStore::new(),
        gate: gate.clone(),
        entered: entered.clone(),
    };
    let hasher = PasswordHasher::argon2id(1024, 1, 1).expect("params");
    let authenticator = PasswordAuthenticator::new(users, hasher)
        .with_login_limit(LoginLimit::new(64 * 1024 * 1024, 1));
    let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET))
        .authenticator(authenticator)
        .build()
        .expect("jwt");
    let not_found = service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
    });
    Setup {
        endpoint: BoxCloneService::new(IssueLayer::new(jwt).layer(not_found)),
        gate,
        entered,
    }
}

async fn login(endpoint: Endpoint) -> (u16, Value, http::HeaderMap) {
    let request = Request::post("/api/token/")
        .header("content-type", "application/json")
        .body(Full::from(r#"{"username": "nobody", "password": "guess"}"#))
        .unwrap();
    let response = endpoint.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap(), headers)
}

/// A login that must be answered without passing the gate: a hang would
/// mean it reached the user store despite the limit.
async fn refused_login(endpoint: Endpoint) -> (u16, Value, http::HeaderMap) {
    tokio::time::timeout(std::time::Duration::from_secs(60), login(endpoint))
        .await
        .expect("refused at once, not held at the user store")
}

fn busy() -> Value {
    json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"})
}

fn no_account() -> Value {
    json!({"detail": "No active account found with the given credentials"})
}

#[tokio::test]
async fn a_login_beyond_the_limit_gets_503_service_unavailable() {
    let setup = one_login_at_a_time();
    let held = tokio::spawn(login(setup.endpoint.clone()));
    setup.entered.notified().await;

    // The attacker keeps trying while the limit is taken: 503 every time,
    // never a 401 (a client would read it as wrong credentials) or a 500.
    for _ in 0..20 {
        let (status, body, headers) = refused_login(setup.endpoint.clone()).await;
        assert_eq!((status, body), (503, busy()));
        assert_eq!(headers["retry-after"], "1");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers.get("www-authenticate").is_none());
    }

    setup.gate.add_permits(1);
    let (status, body, _) = held.await.unwrap();
    assert_eq!((status, body), (401, no_account()));

    // The place is free again.
    let next = tokio::spawn(login(setup.endpoint.clone()));
    setup.entered.notified().await;
    setup.gate.add_permits(1);
    let (status, body, _) = next.await.unwrap();
    assert_eq!((status, body), (401, no_account()));
}

#[tokio::test]
async fn a_login_dropped_by_its_client_gives_its_place_back() {
    let setup = one_login_at_a_time();
    let abandoned = tokio::spawn(login(setup.endpoint.clone()));
    setup.entered.notified().await;
    assert_eq!(refused_login(setup.endpoint.clone()).await.0, 503);

    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());

    let next = tokio::spawn(login(setup.endpoint.clone()));
    setup.entered.notified().await;
    setup.gate.add_permits(1);
    let (status, body, _) = next.await.unwrap();
    assert_eq!((status, body), (401, no_account()));
}
