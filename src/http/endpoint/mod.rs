//! The token endpoints as tower middleware.
//!
//! [`EndpointService`] answers POST requests to its endpoint's path and
//! passes every other request to the service it wraps. Which paths it
//! answers is chosen by its route type: [`Issue`], [`Refresh`], [`Verify`],
//! [`Blacklist`], or [`AllEndpoints`] for the four at once. The per-endpoint
//! names ([`IssueLayer`](issue::IssueLayer),
//! [`RefreshLayer`](refresh::RefreshLayer), …) are aliases of it.
//!
//! Each endpoint reads its body into a typed request, makes one lifecycle
//! call ([`Jwt::login`](crate::Jwt::login), [`Jwt::refresh`](crate::Jwt::refresh),
//! [`Jwt::verify`](crate::Jwt::verify), [`Jwt::blacklist`](crate::Jwt::blacklist))
//! and renders its typed result; cookies are set from the tokens it returned.
//!
//! Every endpoint follows DRF's request rules: POST only (405 with `Allow:
//! POST, OPTIONS` otherwise, 200 with the endpoint's metadata for OPTIONS),
//! JSON or URL-encoded form bodies (415 for other media types), at most
//! `max_body_bytes` (413), string fields trimmed, and DRF's field errors.
//!
//! Every answer of a token endpoint, refusals included, carries
//! `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1): no
//! cache may keep a token pair, or replay any answer about one. These two
//! headers are ours; the reference sends neither.
//!
//! A login waits for room in the [`LoginLimit`](crate::credentials::LoginLimit)
//! of a [`PasswordAuthenticator`](crate::credentials::PasswordAuthenticator);
//! when its wait queue is full the obtain endpoint answers `503
//! {"detail":"Service temporarily unavailable, try again later.","code":"service_unavailable"}`
//! with `Retry-After: 1`.
//!
//! # Examples
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore};
//! use tower_simplejwt::http::TokenEndpointsLayer;
//! use tower_simplejwt::Jwt;
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let hasher = PasswordHasher::default();
//! let users = MemoryUserStore::new();
//! users.create("alice", &hasher.hash("wonderland-42").unwrap(), true).await.unwrap();
//! let jwt = Jwt::builder(JwtConfig::simplejwt_guide("an example secret of 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(users, hasher))
//!     .build()
//!     .unwrap();
//!
//! let app = ServiceBuilder::new()
//!     .layer(TokenEndpointsLayer::new(jwt))
//!     .service(service_fn(|_: Request<Full<bytes::Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::from("not a token endpoint")))
//!     }));
//!
//! let login = Request::post("/api/token/")
//!     .header("content-type", "application/json")
//!     .body(Full::from(r#"{"username": "alice", "password": "wonderland-42"}"#))
//!     .unwrap();
//! let response = app.oneshot(login).await.unwrap();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers()["cache-control"], "no-store");
//! let body: serde_json::Value =
//!     serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
//! assert!(body["access"].is_string() && body["refresh"].is_string());
//! # });
//! ```

pub mod blacklist;
pub mod issue;
pub mod refresh;
mod request;
mod service;
pub mod verify;

pub use crate::http::answer_future::ResponseFuture;
pub use service::{EndpointLayer, EndpointService};

use crate::config::EndpointPaths;

/// The four token endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// Issue a pair for credentials (log in).
    Issue,
    /// Exchange a refresh token.
    Refresh,
    /// Check a token.
    Verify,
    /// Log a refresh token out.
    Blacklist,
}

impl EndpointKind {
    /// The body DRF answers to OPTIONS on this endpoint.
    pub(crate) fn metadata(self) -> &'static str {
        match self {
            EndpointKind::Issue => include_str!("metadata/obtain.json"),
            EndpointKind::Refresh => include_str!("metadata/refresh.json"),
            EndpointKind::Verify => include_str!("metadata/verify.json"),
            EndpointKind::Blacklist => include_str!("metadata/blacklist.json"),
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Which paths an [`EndpointService`] answers. Implemented by the route
/// types of this module only.
pub trait Routes: sealed::Sealed + Send + Sync + 'static {
    /// The endpoint at `path`, if this route type answers it.
    fn route(paths: &EndpointPaths, path: &str) -> Option<EndpointKind>;
}

macro_rules! single_route {
    ($(#[$doc:meta])* $name:ident, $field:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub enum $name {}

        impl sealed::Sealed for $name {}

        impl Routes for $name {
            #[inline]
            fn route(paths: &EndpointPaths, path: &str) -> Option<EndpointKind> {
                (path == paths.$field).then_some(EndpointKind::$kind)
            }
        }
    };
}

single_route!(
    /// The obtain endpoint (`/api/token/`), where credentials are issued a pair.
    Issue, issue, Issue
);
single_route!(
    /// The refresh endpoint (`/api/token/refresh/`).
    Refresh, refresh, Refresh
);
single_route!(
    /// The verify endpoint (`/api/token/verify/`).
    Verify, verify, Verify
);
single_route!(
    /// The blacklist (logout) endpoint (`/api/token/blacklist/`).
    Blacklist, blacklist, Blacklist
);

/// All four token endpoints.
#[derive(Debug, Clone, Copy)]
pub enum AllEndpoints {}

impl sealed::Sealed for AllEndpoints {}

impl Routes for AllEndpoints {
    #[inline]
    fn route(paths: &EndpointPaths, path: &str) -> Option<EndpointKind> {
        Issue::route(paths, path)
            .or_else(|| Refresh::route(paths, path))
            .or_else(|| Verify::route(paths, path))
            .or_else(|| Blacklist::route(paths, path))
    }
}

/// Answers all four token endpoints; see the module documentation.
pub type TokenEndpointsLayer = EndpointLayer<AllEndpoints>;
/// The service of [`TokenEndpointsLayer`].
pub type TokenEndpoints<S> = EndpointService<AllEndpoints, S>;
