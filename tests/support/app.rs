//! The guide's backend in process, on the crate's public API, for the tests
//! that look inside it (its clock, its database, its `Jwt`): the token
//! endpoints behind `JwtLayer`, `GET /api/me/` behind `AuthLayer`, users and
//! tokens in one SQLite database. The example server (`examples/server`)
//! serves the same routes; `tests/example_*.rs` run its binary.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Extension, Json, Router};
use serde_json::json;
use tower::Layer;
use tower_simplejwt::clock::SharedClock;
use tower_simplejwt::config::{AutoRefreshSettings, CookieSettings, JwtConfig, ReusePolicy};
use tower_simplejwt::credentials::{
    Authenticator, PasswordAuthenticator, PasswordHasher, SqliteUserStore, Subject, SubjectCache,
    UserStore,
};
use tower_simplejwt::http::ApiError;
use tower_simplejwt::keys::{Key, KeySet};
use tower_simplejwt::store::sqlite::{open_pool, SqliteTokenStore};
use tower_simplejwt::AuthLayer;
use tower_simplejwt::{Algorithm, Jwt, JwtLayer};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How to build the app.
pub struct Options {
    /// `sqlite://…` URL of the users and tokens database.
    pub database: String,
    /// The HS256 secret.
    pub secret: String,
    /// Overrides of the guide's lifetimes.
    pub access_lifetime: Option<Duration>,
    pub refresh_lifetime: Option<Duration>,
    /// The clock (tests pass a ManualClock).
    pub clock: SharedClock,
    /// The password hasher for logins.
    pub hasher: PasswordHasher,
    /// The reuse grace window and what a replay after it revokes.
    pub reuse_grace: Duration,
    pub reuse_policy: ReusePolicy,
    /// Refresh expired access tokens on the fly (needs a grace window).
    pub auto_refresh: bool,
    /// Tokens in HttpOnly cookies, with CSRF protection on every route.
    pub cookies: bool,
    /// Asymmetric signing.
    pub keys: KeyOptions,
    /// Subjects answered from memory for this long after SQLite was asked.
    pub user_cache: Option<Duration>,
}

/// Asymmetric signing: the algorithm, the PEM private key, extra PEM
/// public keys to verify with, and the issuer.
#[derive(Clone, Default)]
pub struct KeyOptions {
    pub algorithm: Option<Algorithm>,
    pub signing_key_pem: Option<String>,
    pub verifying_key_pems: Vec<String>,
    pub issuer: Option<String>,
}

/// The built app and the pieces tests look into.
pub struct App {
    pub router: Router,
    pub jwt: Jwt,
    /// The database pool, shared by users and tokens (tests close it to simulate an outage).
    pub pool: sqlx::SqlitePool,
    pub users: SqliteUserStore,
}

/// The guide's settings with the options' changes.
fn config(options: &Options) -> JwtConfig {
    let mut config = JwtConfig::simplejwt_guide(options.secret.as_str());
    if let Some(lifetime) = options.access_lifetime {
        config = config.with_access_token_lifetime(lifetime);
    }
    if let Some(lifetime) = options.refresh_lifetime {
        config = config.with_refresh_token_lifetime(lifetime);
    }
    if options.auto_refresh {
        config = config.with_auto_refresh(AutoRefreshSettings::enabled());
    }
    if options.cookies {
        config = config.with_cookies(CookieSettings::enabled());
    }
    if let (Some(algorithm), Some(private)) =
        (options.keys.algorithm, &options.keys.signing_key_pem)
    {
        config.algorithm = algorithm;
        config.signing_key = private.as_str().into();
    }
    if let Some(issuer) = &options.keys.issuer {
        config = config.with_issuer(issuer.clone());
    }
    config.with_reuse(options.reuse_grace, options.reuse_policy)
}

fn key_set(options: &KeyOptions) -> Result<Option<KeySet>, Error> {
    let (Some(algorithm), Some(private)) = (options.algorithm, &options.signing_key_pem) else {
        return Ok(None);
    };
    let signing = Key::from_pem(algorithm, Some(private), None)?;
    let verifying = options
        .verifying_key_pems
        .iter()
        .map(|pem| Key::from_pem(algorithm, None, Some(pem)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(KeySet::new(signing, verifying)?))
}

/// Opens the database and builds the router.
pub async fn build(options: Options) -> Result<App, Error> {
    let pool = open_pool(&options.database).await?;
    let users = SqliteUserStore::from_pool(pool.clone()).await?;
    let tokens = SqliteTokenStore::from_pool(pool.clone()).await?;
    let authenticator = PasswordAuthenticator::new(users.clone(), options.hasher.clone());
    let authenticator: Arc<dyn Authenticator> = match options.user_cache {
        Some(lifetime) => {
            Arc::new(SubjectCache::new(authenticator, lifetime).with_clock(options.clock.clone()))
        }
        None => Arc::new(authenticator),
    };
    let jwt = Jwt::builder(config(&options))
        .token_store(tokens)
        .shared_authenticator(authenticator)
        .clock(options.clock.clone())
        .build()?;
    if let Some(keys) = key_set(&options.keys)? {
        jwt.codec().set_key_set(keys);
    }
    let me_view = get(me)
        .fallback(method_not_allowed)
        .layer(AuthLayer::new(jwt.clone()))
        .layer(middleware::map_response(allow_get));
    let mut router = Router::new().route("/api/me/", me_view);
    // JwtLayer answers its own paths; the service it wraps is never reached there.
    let endpoints = JwtLayer::new(jwt.clone()).layer(any(not_found));
    let paths = &jwt.config().paths;
    let mut answered = vec![
        &paths.issue,
        &paths.refresh,
        &paths.verify,
        &paths.blacklist,
        &paths.jwks,
    ];
    if jwt.config().issuer.is_some() {
        answered.push(&paths.openid_configuration);
    }
    for path in answered {
        router = router.route_service(path, endpoints.clone());
    }
    let mut router = router.fallback(not_found);
    if options.cookies {
        router = router.layer(tower_http::csrf::CsrfLayer::new());
    }
    Ok(App {
        router,
        jwt,
        pool,
        users,
    })
}

/// `GET /api/me/`: the username of the access token's user.
async fn me(Extension(subject): Extension<Subject>) -> Json<serde_json::Value> {
    Json(json!({"username": subject.username}))
}

async fn method_not_allowed(method: Method) -> Response {
    ApiError::MethodNotAllowed(method)
        .into_response()
        .map(axum::body::Body::new)
}

/// DRF lists a view's methods on every response of it.
async fn allow_get(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, OPTIONS"));
    response
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
}

/// Creates a user with an argon2 hash; ids are given in order 1, 2, …
pub async fn create_user(
    users: &SqliteUserStore,
    hasher: &PasswordHasher,
    username: &str,
    password: &str,
    active: bool,
) -> Result<String, Error> {
    let hash = hasher.hash(password)?;
    Ok(users.create(username, &hash, active).await?.id)
}
