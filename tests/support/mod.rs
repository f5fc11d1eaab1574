//! The guide's backend (`app`, the example server's routes on the public
//! API) served in process on 127.0.0.1, and a real HTTP client for it.
#![allow(dead_code)]

pub mod app;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::credentials::{PasswordHasher, UserStore};
use tower_simplejwt::Algorithm;

pub const SECRET: &str = "contract-test-secret-of-at-least-32-bytes";
/// Where the test clock starts: tokens are minted "now" as far as the server knows.
pub const START: u64 = 1_800_000_000;
pub const ACCESS_LIFETIME: u64 = 7200;
pub const REFRESH_LIFETIME: u64 = 604_800;

/// The contract's users: alice (id 1, active), bob (id 2, inactive), and
/// carol (id 3) whose password hash was copied from a Django database.
pub const ALICE: (&str, &str) = ("alice", "wonderland-42");
pub const BOB: (&str, &str) = ("bob", "builder-42");
pub const CAROL: (&str, &str) = ("carol", "builder-42");
const CAROL_DJANGO_HASH: &str =
    "pbkdf2_sha256$1000$dAZCAAFxUbgXRADhq3uAjd$LCFIUXG8QoT56y0/us0T20a7loNb12YdbODSAJASeBE=";

pub struct Server {
    pub base: String,
    pub clock: ManualClock,
    pub app_jwt: tower_simplejwt::Jwt,
    pub pool: sqlx::SqlitePool,
    pub database: String,
    client: Client<HttpConnector, Full<Bytes>>,
    dir: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn www_authenticate(&self) -> Option<&str> {
        self.headers
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
    }

    /// Status, exact JSON body, and the WWW-Authenticate rule of the contract.
    #[track_caller]
    pub fn assert(&self, status: u16, body: Value) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "status; body was {}",
            self.text
        );
        assert_eq!(self.body, body, "body");
        if status == 401 {
            assert_eq!(
                self.www_authenticate(),
                Some("Bearer realm=\"api\""),
                "every 401 carries WWW-Authenticate"
            );
        } else {
            assert_eq!(
                self.www_authenticate(),
                None,
                "only 401s carry WWW-Authenticate"
            );
        }
    }

    pub fn str(&self, key: &str) -> String {
        self.body[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string {key:?} in {}", self.text))
            .to_owned()
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tower-simplejwt-{name}-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fast argon2 parameters: the tests log in hundreds of times.
pub fn test_hasher() -> PasswordHasher {
    PasswordHasher::argon2id(1024, 1, 1).unwrap()
}

impl Server {
    /// A fresh database with the contract's users, served on a free port.
    pub async fn start() -> Server {
        Server::start_configured(|_| {}).await
    }

    /// Serves the database at `database` (existing or not) with `clock`.
    pub async fn start_on(dir: PathBuf, database: String, clock: ManualClock) -> Server {
        Server::start_with(dir, database, clock, |_| {}).await
    }

    /// A fresh database with the contract's users, and options changed by `change`.
    pub async fn start_configured(change: impl FnOnce(&mut app::Options)) -> Server {
        let dir = temp_dir("configured");
        let database = format!("sqlite://{}", dir.join("server.sqlite3").display());
        let server = Server::start_with(dir, database, ManualClock::new(START), change).await;
        server.create_contract_users().await;
        server
    }

    async fn create_contract_users(&self) {
        let hasher = test_hasher();
        let users = tower_simplejwt::credentials::SqliteUserStore::from_pool(self.pool.clone())
            .await
            .unwrap();
        assert_eq!(
            app::create_user(&users, &hasher, ALICE.0, ALICE.1, true)
                .await
                .unwrap(),
            "1"
        );
        assert_eq!(
            app::create_user(&users, &hasher, BOB.0, BOB.1, false)
                .await
                .unwrap(),
            "2"
        );
        assert_eq!(
            users
                .create(CAROL.0, CAROL_DJANGO_HASH, true)
                .await
                .unwrap()
                .id,
            "3"
        );
    }

    /// Serves `database` with `clock` and options changed by `change`.
    pub async fn start_with(
        dir: PathBuf,
        database: String,
        clock: ManualClock,
        change: impl FnOnce(&mut app::Options),
    ) -> Server {
        let mut options = app::Options {
            database: database.clone(),
            secret: SECRET.into(),
            access_lifetime: None,
            refresh_lifetime: None,
            clock: Arc::new(clock.clone()),
            hasher: test_hasher(),
            reuse_grace: Duration::ZERO,
            reuse_policy: tower_simplejwt::config::ReusePolicy::RevokeFamily,
            auto_refresh: false,
            cookies: false,
            keys: app::KeyOptions::default(),
            user_cache: None,
        };
        change(&mut options);
        let built = app::build(options).await.expect("app builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = built.router;
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("server runs");
        });
        let client = Client::builder(TokioExecutor::new()).build_http();
        Server {
            base,
            clock,
            app_jwt: built.jwt,
            pool: built.pool,
            database,
            client,
            dir,
            task,
        }
    }

    /// Stops serving (the database stays) and hands back what a restart needs.
    pub async fn stop(self) -> (PathBuf, String, ManualClock) {
        self.task.abort();
        let _ = self.task.await;
        self.pool.close().await;
        (self.dir, self.database, self.clock)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = tokio::time::timeout(
            Duration::from_secs(30),
            self.client
                .request(builder.body(Full::new(body.into())).unwrap()),
        )
        .await
        .expect("the server answers in time")
        .expect("the server is reachable");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("JSON body, got {text:?}"))
        };
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            text,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<Bytes>) -> Answer {
        self.request(Method::POST, path, &[("content-type", content_type)], body)
            .await
    }

    pub async fn get_with(&self, path: &str, authorization: &str) -> Answer {
        self.request(
            Method::GET,
            path,
            &[("authorization", authorization)],
            Bytes::new(),
        )
        .await
    }

    pub async fn me(&self, access: &str) -> Answer {
        self.get_with("/api/me/", &format!("Bearer {access}")).await
    }

    /// Logs in and returns (refresh, access).
    pub async fn login(&self, (username, password): (&str, &str)) -> (String, String) {
        let answer = self
            .post(
                "/api/token/",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        (answer.str("refresh"), answer.str("access"))
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

/// The claims of a token, decoded without verification.
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

/// A token with any claims, signed with the server's secret (or another header's algorithm).
pub fn forge(header: &str, claims: &Value, secret: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{message}.{signature}")
}

pub const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Claims of a valid token of `kind` for `user_id`, minted at the clock's time.
pub fn claims(kind: &str, user_id: Value, now: u64) -> Value {
    let lifetime = if kind == "access" {
        ACCESS_LIFETIME
    } else {
        REFRESH_LIFETIME
    };
    json!({
        "token_type": kind,
        "exp": now + lifetime,
        "iat": now,
        "jti": format!("{:032x}", rand::random::<u128>()),
        "user_id": user_id,
    })
}

pub fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

pub fn token_error(message: &str) -> Value {
    json!({"detail": message, "code": "token_not_valid"})
}

pub fn wrapped(message: &str) -> Value {
    json!({
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
    })
}
