//! The user database (not the token store) fails: logins and protected
//! routes answer the contract's `503 service_unavailable`, never the token
//! store's body and never a 401; data that cannot be read is a `500
//! server_error`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::util::BoxCloneService;
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    Authenticator, CreateUserError, MemoryUserStore, PasswordAuthenticator, PasswordHasher,
    Subject, User, UserStore, UserStoreError,
};
use tower_simplejwt::future::BoxFuture;
use tower_simplejwt::http::IssueLayer;
use tower_simplejwt::http::ResponseBody;
use tower_simplejwt::AuthLayer;
use tower_simplejwt::Jwt;

const SECRET: &str = "user-store-outage-test-secret-32-bytes";

type Endpoint = BoxCloneService<
    Request<Full<Bytes>>,
    Response<ResponseBody<ResponseBody<Full<Bytes>>>>,
    std::convert::Infallible,
>;

/// Users in memory behind a switch: while it is down, every lookup fails
/// as a database that cannot be reached does.
#[derive(Debug, Default)]
struct SwitchedUsers {
    users: MemoryUserStore,
    down: Arc<AtomicBool>,
}

impl SwitchedUsers {
    fn check(&self) -> Result<(), UserStoreError> {
        if self.down.load(Ordering::SeqCst) {
            let refused =
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
            return Err(UserStoreError::unavailable(refused));
        }
        Ok(())
    }
}

impl UserStore for SwitchedUsers {
    fn find_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        Box::pin(async move {
            self.check()?;
            self.users.find_by_username(username).await
        })
    }

    fn find_by_id<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, UserStoreError>> {
        Box::pin(async move {
            self.check()?;
            self.users.find_by_id(id).await
        })
    }

    fn find_subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        Box::pin(async move {
            self.check()?;
            self.users.find_subject(id).await
        })
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

/// The obtain endpoint in front of a protected route, over `users`.
fn app(jwt: Jwt) -> Endpoint {
    let me = service_fn(|request: Request<Full<Bytes>>| async move {
        let name = request
            .extensions()
            .get::<Subject>()
            .map(|subject| subject.username.clone())
            .unwrap_or_default();
        Ok::<_, std::convert::Infallible>(Response::new(Full::from(name)))
    });
    let protected = AuthLayer::new(jwt.clone()).layer(me);
    BoxCloneService::new(IssueLayer::new(jwt).layer(protected))
}

fn jwt_over(users: impl UserStore) -> Jwt {
    let hasher = PasswordHasher::argon2id(1024, 1, 1).expect("params");
    Jwt::builder(JwtConfig::simplejwt_guide(SECRET))
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .build()
        .expect("jwt")
}

async fn send(app: &Endpoint, request: Request<Full<Bytes>>) -> (u16, Value, http::HeaderMap) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body, headers)
}

fn login(username: &str, password: &str) -> Request<Full<Bytes>> {
    let body = json!({"username": username, "password": password}).to_string();
    Request::post("/api/token/")
        .header("content-type", "application/json")
        .body(Full::from(body))
        .unwrap()
}

fn me(access: &str) -> Request<Full<Bytes>> {
    Request::get("/api/me/")
        .header("authorization", format!("Bearer {access}"))
        .body(Full::default())
        .unwrap()
}

fn service_unavailable() -> Value {
    json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"})
}

#[tokio::test]
async fn a_login_with_the_user_database_down_gets_503_service_unavailable() {
    let users = SwitchedUsers::default();
    let hash = PasswordHasher::argon2id(1024, 1, 1)
        .unwrap()
        .hash("wonderland-42")
        .unwrap();
    users.users.create("alice", &hash, true).await.unwrap();
    let down = users.down.clone();
    let app = app(jwt_over(users));

    let (status, body, _) = send(&app, login("alice", "wonderland-42")).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access"].as_str().unwrap().to_owned();

    down.store(true, Ordering::SeqCst);
    for request in [login("alice", "wonderland-42"), me(&access)] {
        let (status, body, headers) = send(&app, request).await;
        // Not the token store's body, and never a 401 (the client would
        // take it for wrong credentials, or log the user out).
        assert_eq!((status, body), (503, service_unavailable()));
        assert_eq!(headers["retry-after"], "1");
        assert!(headers.get("www-authenticate").is_none());
    }

    down.store(false, Ordering::SeqCst);
    assert_eq!(send(&app, login("alice", "wonderland-42")).await.0, 200);
    assert_eq!(send(&app, me(&access)).await.0, 200);
}

/// An authenticator that fails every call with the error it is given.
#[derive(Debug)]
struct Failing(UserStoreError);

impl Authenticator for Failing {
    fn authenticate<'a>(
        &'a self,
        _username: &'a str,
        _password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        Box::pin(std::future::ready(Err(self.0.clone())))
    }

    fn subject<'a>(
        &'a self,
        _id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        Box::pin(std::future::ready(Err(self.0.clone())))
    }
}

#[tokio::test]
async fn each_failure_is_answered_as_whose_it_is() {
    let cases = [
        (UserStoreError::unavailable("connection refused"), 503),
        (
            UserStoreError::overloaded("every password check is busy"),
            503,
        ),
        (UserStoreError::corrupt("is_active is not a boolean"), 500),
        (
            UserStoreError::password_hash("the hashing task panicked"),
            500,
        ),
    ];
    for (error, expected) in cases {
        let jwt = Jwt::builder(JwtConfig::simplejwt_guide(SECRET))
            .authenticator(Failing(error.clone()))
            .build()
            .expect("jwt");
        let access = jwt
            .codec()
            .mint_pair("1", &serde_json::Map::new())
            .unwrap()
            .access
            .token;
        let app = app(jwt);
        for request in [login("alice", "wonderland-42"), me(&access)] {
            let (status, body, headers) = send(&app, request).await;
            assert_eq!(status, expected, "{error:?}: {body}");
            assert!(headers.get("www-authenticate").is_none(), "{error:?}");
            if expected == 503 {
                assert_eq!(body, service_unavailable(), "{error:?}");
                assert_eq!(headers["retry-after"], "1");
            } else {
                assert_eq!(body["detail"], "A server error occurred.", "{error:?}");
            }
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use sqlx::sqlite::SqlitePoolOptions;
    use tower_simplejwt::credentials::SqliteUserStore;

    use super::*;

    async fn in_memory() -> sqlx::SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_closed_user_database_is_503_service_unavailable() {
        let pool = in_memory().await;
        let users = SqliteUserStore::from_pool(pool.clone()).await.unwrap();
        let app = app(jwt_over(users));
        pool.close().await;
        let (status, body, headers) = send(&app, login("alice", "wonderland-42")).await;
        assert_eq!((status, body), (503, service_unavailable()));
        assert_eq!(headers["retry-after"], "1");
    }

    #[tokio::test]
    async fn a_user_row_that_cannot_be_read_is_500_server_error() {
        let pool = in_memory().await;
        let users = SqliteUserStore::from_pool(pool.clone()).await.unwrap();
        // Written by something else than this crate: not a boolean.
        sqlx::query(
            "INSERT INTO simplejwt_users (username, password_hash, is_active) VALUES ('alice', 'x', 'yes')",
        )
        .execute(&pool)
        .await
        .unwrap();
        let error = users.find_by_username("alice").await.unwrap_err();
        assert!(matches!(error, UserStoreError::Corrupt(_)), "{error:?}");
        assert!(std::error::Error::source(&error).is_some());

        let app = app(jwt_over(users));
        let (status, body, headers) = send(&app, login("alice", "wonderland-42")).await;
        // A fault of the server, not of the client's credentials.
        assert_eq!(status, 500, "{body}");
        assert_eq!(body["detail"], "A server error occurred.");
        assert!(headers.get("www-authenticate").is_none());
    }
}
