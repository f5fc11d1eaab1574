//! The guide's backend as an axum router: the four token endpoints and
//! `GET /api/me/` behind `AuthLayer`, with users and tokens in SQLite.
//! Shared by the example's `main` and the contract tests.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, MethodRouter, Route};
use axum::{Extension, Json, Router};
use serde_json::json;
use tower::{Layer, Service};
use tower_simplejwt::clock::SharedClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::config::{AutoRefreshSettings, CookieSettings, ReusePolicy};
use tower_simplejwt::credentials::{
    Authenticator, PasswordAuthenticator, PasswordHasher, RemoteSubject, SqliteUserStore, Subject,
    SubjectCache,
};
use tower_simplejwt::http::JwksLayer;
use tower_simplejwt::http::TokenEndpointsLayer;
use tower_simplejwt::keys::{Key, KeySet};
use tower_simplejwt::store::sqlite::{open_pool, SqliteTokenStore};
use tower_simplejwt::store::{MemoryTokenStore, TokenStore};
use tower_simplejwt::Algorithm;
use tower_simplejwt::AuthLayer;
use tower_simplejwt::Jwt;
use tower_simplejwt::{http::ApiError, token::TokenError};

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
    /// The password hasher for logins and `createuser`.
    pub hasher: PasswordHasher,
    /// Where refresh tokens live: `memory:`, `sqlite://…`, `postgres://…`,
    /// `redis://…`; `None` is the users' SQLite database.
    pub token_store: Option<String>,
    /// The reuse grace window and what a replay after it revokes.
    pub reuse_grace: Duration,
    pub reuse_policy: ReusePolicy,
    /// Refresh expired access tokens on the fly (needs a grace window).
    pub auto_refresh: bool,
    /// Tokens in HttpOnly cookies, with CSRF protection on every route.
    pub cookies: bool,
    /// Asymmetric signing: the algorithm, the PEM private key, extra PEM
    /// public keys to verify with (rotation), and the issuer.
    pub keys: KeyOptions,
    /// Other issuers whose access tokens are trusted (OIDC discovery URLs).
    pub trust_issuers: Vec<String>,
    /// The audience the trusted issuers' tokens must name.
    pub trust_audience: Option<String>,
    /// Subjects answered from memory for this long after SQLite was asked;
    /// `None` asks SQLite on every request, as DRF does.
    pub user_cache: Option<Duration>,
    /// Serve the twins of `GET /api/me/` the load test compares it with.
    pub load_test_routes: bool,
}

/// Key material from the command line.
#[derive(Clone, Default)]
pub struct KeyOptions {
    pub algorithm: Option<tower_simplejwt::Algorithm>,
    pub signing_key_pem: Option<String>,
    pub verifying_key_pems: Vec<String>,
    pub issuer: Option<String>,
}

/// The key set of `options`: the signing key and the extra verifying keys.
pub fn key_set(
    options: &KeyOptions,
) -> Result<Option<KeySet>, Box<dyn std::error::Error + Send + Sync>> {
    let (Some(algorithm), Some(private)) = (options.algorithm, &options.signing_key_pem) else {
        return Ok(None);
    };
    let signing = Key::from_pem(algorithm, Some(private), None)?;
    let mut verifying = Vec::new();
    for pem in &options.verifying_key_pems {
        // The algorithm of each verifying key is read from its PEM's key type.
        let key = [
            algorithm,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
            Algorithm::RS256,
        ]
        .into_iter()
        .find_map(|candidate| Key::from_pem(candidate, None, Some(pem)).ok())
        .ok_or("a --verifying-key is not a PEM public key of a supported type")?;
        verifying.push(key);
    }
    Ok(Some(KeySet::new(signing, verifying)?))
}

/// The built app and the pieces tests look into.
pub struct App {
    pub router: Router,
    /// Not used by `main`; the tests mint and inspect tokens with it.
    #[allow(dead_code)]
    pub jwt: Jwt,
    /// The database pool, shared by users and tokens (tests close it to simulate an outage).
    #[allow(dead_code)]
    pub pool: sqlx::SqlitePool,
    pub users: SqliteUserStore,
}

/// The guide's settings with the command line's overrides.
pub fn config(options: &Options) -> JwtConfig {
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

/// Opens the token store named by `url`; `None` shares the users' SQLite pool.
async fn open_token_store(
    url: Option<&str>,
    users_pool: sqlx::SqlitePool,
) -> Result<Arc<dyn TokenStore>, Box<dyn std::error::Error + Send + Sync>> {
    let Some(url) = url else {
        return Ok(Arc::new(SqliteTokenStore::from_pool(users_pool).await?));
    };
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "memory" => Ok(Arc::new(MemoryTokenStore::new())),
        "sqlite" => Ok(Arc::new(SqliteTokenStore::connect(url).await?)),
        "postgres" | "postgresql" => postgres_store(url).await,
        "redis" | "rediss" => redis_store(url).await,
        _ => Err(format!(
            "--token-store {url:?}: expected memory:, sqlite://, postgres:// or redis://"
        )
        .into()),
    }
}

#[cfg(feature = "postgres")]
async fn postgres_store(
    url: &str,
) -> Result<Arc<dyn TokenStore>, Box<dyn std::error::Error + Send + Sync>> {
    Ok(Arc::new(
        tower_simplejwt::store::postgres::PostgresTokenStore::connect(url).await?,
    ))
}

#[cfg(not(feature = "postgres"))]
async fn postgres_store(
    _url: &str,
) -> Result<Arc<dyn TokenStore>, Box<dyn std::error::Error + Send + Sync>> {
    Err("--token-store postgres://…: run the example with `--features postgres`".into())
}

#[cfg(feature = "redis")]
async fn redis_store(
    url: &str,
) -> Result<Arc<dyn TokenStore>, Box<dyn std::error::Error + Send + Sync>> {
    Ok(Arc::new(
        tower_simplejwt::store::redis::RedisTokenStore::connect(url).await?,
    ))
}

#[cfg(not(feature = "redis"))]
async fn redis_store(
    _url: &str,
) -> Result<Arc<dyn TokenStore>, Box<dyn std::error::Error + Send + Sync>> {
    Err("--token-store redis://…: run the example with `--features redis`".into())
}

#[cfg(feature = "remote-jwks")]
async fn trust_issuers(
    builder: tower_simplejwt::JwtBuilder,
    options: &Options,
) -> Result<tower_simplejwt::JwtBuilder, Box<dyn std::error::Error + Send + Sync>> {
    use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};
    if options.trust_issuers.is_empty() {
        return Ok(builder);
    }
    let audience = options
        .trust_audience
        .as_deref()
        .ok_or("--trust-issuer needs --trust-audience: the audience their tokens must name")?;
    let mut issuers = Vec::new();
    for url in &options.trust_issuers {
        issuers.push(RemoteIssuer::discover(url).await?.with_audience(audience));
    }
    let remote = RemoteIssuers::start(
        &config(options),
        issuers,
        RemoteSettings::default(),
        options.clock.clone(),
    )
    .await?;
    Ok(builder.remote_issuers(remote))
}

#[cfg(not(feature = "remote-jwks"))]
async fn trust_issuers(
    builder: tower_simplejwt::JwtBuilder,
    options: &Options,
) -> Result<tower_simplejwt::JwtBuilder, Box<dyn std::error::Error + Send + Sync>> {
    match options.trust_issuers.is_empty() && options.trust_audience.is_none() {
        true => Ok(builder),
        false => Err(
            "--trust-issuer, --trust-audience: run the example with `--features remote-jwks`"
                .into(),
        ),
    }
}

/// Opens the database and builds the router.
pub async fn build(options: Options) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let pool = open_pool(&options.database).await?;
    let database = pool.clone();
    let users = SqliteUserStore::from_pool(pool.clone()).await?;
    let tokens = open_token_store(options.token_store.as_deref(), pool).await?;
    let builder = Jwt::builder(config(&options));
    let builder = trust_issuers(builder, &options).await?;
    let authenticator = PasswordAuthenticator::new(users.clone(), options.hasher.clone());
    let authenticator: Arc<dyn Authenticator> = match options.user_cache {
        Some(lifetime) => {
            Arc::new(SubjectCache::new(authenticator, lifetime).with_clock(options.clock.clone()))
        }
        None => Arc::new(authenticator),
    };
    let jwt = builder
        .shared_token_store(tokens)
        .shared_authenticator(authenticator)
        .clock(options.clock.clone())
        .build()?;
    if let Some(keys) = key_set(&options.keys)? {
        jwt.codec().set_key_set(keys);
    }
    let mut router = Router::new()
        .route("/api/me/", me_view(AuthLayer::new(jwt.clone())))
        .route("/", get(demo_page))
        .route("/client.js", get(client_module));
    if options.load_test_routes {
        router = with_load_test_routes(router, &jwt, &options)?;
    }
    // The endpoints answer their own paths; the service they wrap is never reached there.
    let endpoints = TokenEndpointsLayer::new(jwt.clone()).layer(any(not_found));
    let paths = &jwt.config().paths;
    for path in [
        &paths.obtain,
        &paths.refresh,
        &paths.verify,
        &paths.blacklist,
    ] {
        router = router.route_service(path, endpoints.clone());
    }
    // The public keys and, with an issuer, OpenID discovery.
    let published = JwksLayer::new(jwt.clone()).layer(any(not_found));
    for path in [&paths.jwks, &paths.openid_configuration] {
        router = router.route_service(path, published.clone());
    }
    let mut router = router.fallback(not_found);
    if options.cookies {
        // The browser sends cookies on its own: refuse cross-site requests
        // that change state (Sec-Fetch-Site / Origin checks, no token state).
        router = router.layer(tower_http::csrf::CsrfLayer::new());
    }
    let router = router.layer(middleware::from_fn(log_request));
    Ok(App {
        router,
        jwt,
        pool: database,
        users,
    })
}

/// The view of `GET /api/me/` with `authentication` in front of it: other
/// methods get 405 (once authenticated), and every answer lists the
/// allowed methods, as DRF's views do.
fn me_view<L>(authentication: L) -> MethodRouter
where
    L: Layer<Route> + Clone + Send + Sync + 'static,
    L::Service: Service<Request> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request>>::Response: IntoResponse + 'static,
    <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
    <L::Service as Service<Request>>::Future: Send + 'static,
{
    get(me)
        .fallback(method_not_allowed)
        .layer(authentication)
        .layer(middleware::map_response(allow_get))
}

/// `GET /api/me/`: who the access token belongs to. A trusted issuer's
/// user (`--trust-issuer`) is not one of ours: it is answered with its
/// issuer and id, never as the local user with the same id.
async fn me(
    local: Option<Extension<Subject>>,
    remote: Option<Extension<RemoteSubject>>,
) -> Response {
    match (local, remote) {
        (Some(Extension(subject)), _) => {
            Json(json!({"username": subject.username})).into_response()
        }
        (None, Some(Extension(RemoteSubject(subject)))) => {
            Json(json!({"issuer": subject.issuer, "user_id": subject.id})).into_response()
        }
        (None, None) => refusal(ApiError::CredentialsNotProvided),
    }
}

/// `--load-test-routes`: the handler of `GET /api/me/` without `AuthLayer`
/// (a fixed subject, nothing verified), and behind a middleware written
/// with plain jsonwebtoken that looks the user up as `AuthLayer` does.
/// `benches/load` compares `GET /api/me/` with them.
fn with_load_test_routes(
    router: Router,
    jwt: &Jwt,
    options: &Options,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    if options.keys.signing_key_pem.is_some() {
        return Err("--load-test-routes verifies HS256 tokens only: drop --signing-key".into());
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = jwt.config().leeway.as_secs();
    let verifier = Arc::new(PlainVerifier {
        key: jsonwebtoken::DecodingKey::from_secret(options.secret.as_bytes()),
        validation,
        authenticator: jwt.authenticator().clone(),
    });
    let unverified = Subject::new("0", "load-test", true);
    Ok(router
        .route("/load-test/unprotected/", me_view(Extension(unverified)))
        .route(
            "/load-test/jsonwebtoken/",
            me_view(middleware::from_fn_with_state(
                verifier,
                verify_with_jsonwebtoken,
            )),
        ))
}

/// What `verify_with_jsonwebtoken` needs: the HS256 key and the user lookup.
struct PlainVerifier {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
    authenticator: Arc<dyn Authenticator>,
}

/// The claims of the contract's access token.
#[derive(serde::Deserialize)]
struct PlainClaims {
    token_type: String,
    user_id: String,
}

/// Verification as a handler written with jsonwebtoken alone does it:
/// decode the bearer token, then refuse unknown and inactive users.
async fn verify_with_jsonwebtoken(
    axum::extract::State(verifier): axum::extract::State<Arc<PlainVerifier>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return refusal(ApiError::CredentialsNotProvided);
    };
    let claims =
        match jsonwebtoken::decode::<PlainClaims>(token, &verifier.key, &verifier.validation) {
            Ok(data) if data.claims.token_type == "access" => data.claims,
            Ok(_) => return refusal(ApiError::AccessTokenRefused(TokenError::WrongType)),
            Err(_) => return refusal(ApiError::AccessTokenRefused(TokenError::Invalid)),
        };
    // The same lookup as AuthLayer's: in place when the store can answer
    // at once, else awaited.
    let found = match verifier.authenticator.subject_now(&claims.user_id) {
        Some(found) => found,
        None => verifier.authenticator.subject(&claims.user_id).await,
    };
    match found {
        Ok(Some(subject)) if subject.is_active => {
            request.extensions_mut().insert(subject);
            next.run(request).await
        }
        Ok(Some(_)) => refusal(ApiError::UserInactive),
        Ok(None) => refusal(ApiError::UserNotFound),
        Err(_) => refusal(ApiError::StoreUnavailable),
    }
}

fn refusal(error: ApiError) -> Response {
    error.into_response().map(axum::body::Body::new)
}

/// The demo page for frontend teams (`examples/frontend/index.html`).
async fn demo_page() -> Response {
    static_file(
        "text/html; charset=utf-8",
        include_str!("../frontend/index.html"),
    )
}

/// The frontend client module the demo page uses (`examples/frontend/client.js`).
async fn client_module() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../frontend/client.js"),
    )
}

fn static_file(content_type: &'static str, text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

async fn method_not_allowed(method: Method) -> Response {
    refusal(ApiError::MethodNotAllowed(method))
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

async fn log_request(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), "request");
    response
}

/// Creates a user with an argon2 hash; ids are given in order 1, 2, …
pub async fn create_user(
    users: &SqliteUserStore,
    hasher: &PasswordHasher,
    username: &str,
    password: &str,
    active: bool,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    use tower_simplejwt::credentials::UserStore;
    let hash = hasher.hash(password)?;
    Ok(users.create(username, &hash, active).await?.id)
}
