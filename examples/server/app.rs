//! The guide's backend as an axum router, on the crate's public API:
//! `JwtLayer` answers the token endpoints and publishes the public keys,
//! `AuthLayer` guards `GET /api/me/`, and its handler reads the `Subject`
//! the layer put into the request. Around them: health and readiness,
//! metrics, CSRF protection in cookie mode and CORS.

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
use tower_simplejwt::credentials::{
    Authenticator, PasswordAuthenticator, PasswordHasher, RemoteSubject, SqliteUserStore, Subject,
    SubjectCache,
};
use tower_simplejwt::http::ApiError;
use tower_simplejwt::keys::KeySet;
use tower_simplejwt::store::sqlite::open_pool;
use tower_simplejwt::{AuthLayer, Jwt, JwtLayer};

use crate::timed_store::TimedStore;
use crate::{cors, health, hooks, metrics, stores, Error};

/// The target of the request log: off unless `--log-requests` or `RUST_LOG` turns it on.
pub const REQUEST_LOG: &str = "server::requests";

/// What the router is built from.
pub struct Options {
    /// `sqlite://…` URL of the users (and, by default, the tokens).
    pub database: String,
    /// The guide's settings with the command line's changes.
    pub config: JwtConfig,
    /// Where the time comes from.
    pub clock: SharedClock,
    /// `--token-store`; `None` keeps the tokens in the users' database.
    pub token_store: Option<String>,
    /// The key set of `--signing-key` and `--verifying-key`.
    pub key_set: Option<KeySet>,
    /// `--trust-issuer` and `--trust-audience` (feature `remote-jwks`).
    #[cfg_attr(not(feature = "remote-jwks"), allow(dead_code))]
    pub trust_issuers: Vec<String>,
    #[cfg_attr(not(feature = "remote-jwks"), allow(dead_code))]
    pub trust_audience: Option<String>,
    /// `--user-cache`: how long a user read from SQLite is remembered.
    pub user_cache: Option<Duration>,
    /// `--log-requests`, or `RUST_LOG` naming the request log.
    pub log_requests: bool,
    /// The hidden `--load-test-routes`.
    pub load_test_routes: bool,
    /// `--cors-origin`: the origins browsers may call the API from.
    pub cors_origins: Vec<String>,
    /// The process's metrics, rendered at `/metrics`.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// The routes besides the token endpoints, as the metrics name them.
const ROUTES: [&str; 6] = [
    "/api/me/",
    "/",
    "/client.js",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// Opens the database and builds the router; the `Jwt` serves the SIGHUP key reload.
pub async fn build(options: Options) -> Result<(Router, Jwt), Error> {
    let database = &options.database;
    let pool = open_pool(database)
        .await
        .map_err(|error| format!("--database {database}: {error}"))?;
    let users = SqliteUserStore::from_pool(pool.clone()).await?;
    let tokens = stores::open(options.token_store.as_deref(), pool).await?;
    let tokens: Arc<dyn tower_simplejwt::store::TokenStore> = Arc::new(TimedStore::new(tokens));
    let stores = health::Stores {
        tokens: tokens.clone(),
        users: users.clone(),
    };
    let authenticator = PasswordAuthenticator::new(users, PasswordHasher::default());
    let authenticator: Arc<dyn Authenticator> = match options.user_cache {
        Some(lifetime) => {
            Arc::new(SubjectCache::new(authenticator, lifetime).with_clock(options.clock.clone()))
        }
        None => Arc::new(authenticator),
    };
    let builder = Jwt::builder(options.config.clone())
        .shared_token_store(tokens)
        .shared_authenticator(authenticator)
        .clock(options.clock.clone());
    let jwt = stores::trust_issuers(builder, &options).await?.build()?;
    if let Some(keys) = options.key_set {
        jwt.codec().set_key_set(keys);
    }

    let mut router = Router::new()
        .route("/api/me/", me_view(AuthLayer::new(jwt.clone())))
        .route("/", get(demo_page))
        .route("/client.js", get(client_module));
    if options.load_test_routes {
        router = hooks::with_load_test_routes(router, &jwt)?;
        router = hooks::with_slow_route(router);
    }
    let router = metrics::route(health::routes(router, stores), options.metrics);
    let mut router = with_token_endpoints(router, &jwt).fallback(not_found);
    router = crate::openapi::with_docs(router, jwt.config());
    if jwt.config().cookies.enabled {
        // The browser sends cookies on its own: refuse cross-site requests
        // that change state (Sec-Fetch-Site / Origin checks, no token state),
        // except from the origins CORS lets in.
        let mut csrf = tower_http::csrf::CsrfLayer::new().with_rejection_response(csrf_failed);
        for origin in &options.cors_origins {
            csrf = csrf.add_trusted_origin(origin)?;
        }
        router = router.layer(csrf);
    }
    if options.log_requests {
        router = router.layer(middleware::from_fn(log_request));
    }
    let mut router = metrics::layer(router, metrics::Endpoints::new(jwt.config(), &ROUTES));
    if let Some(cors) = cors::layer(jwt.config(), &options.cors_origins)? {
        router = router.layer(cors);
    }
    Ok((router, jwt))
}

/// A request the CSRF check refused: DRF's 403 body, with the reason.
fn csrf_failed(error: tower_http::csrf::ProtectionError) -> Response {
    let body = Json(json!({"detail": format!("CSRF Failed: {error}.")}));
    (StatusCode::FORBIDDEN, body).into_response()
}

/// The paths `JwtLayer` answers itself: the four token endpoints and the
/// JWK Set (with OpenID discovery when an issuer is set). Only these go
/// through it, so that unknown paths stay 404s and `/` stays public.
fn with_token_endpoints(mut router: Router, jwt: &Jwt) -> Router {
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
    router
}

/// The view of `GET /api/me/` with `authentication` in front of it: other
/// methods get 405 (once authenticated), and every answer lists the
/// allowed methods, as DRF's views do.
pub fn me_view<L>(authentication: L) -> MethodRouter
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

/// The contract's answer for `error`.
pub fn refusal(error: ApiError) -> Response {
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

/// A line per request; added only when the log would show it.
async fn log_request(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    tracing::info!(target: REQUEST_LOG, %method, %path, status, "request");
    response
}
