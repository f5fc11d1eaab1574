//! The HTTP contract: the token endpoints, [`AuthLayer`], the key
//! documents and the [`JwtLayer`] bundle, as tower middleware.
//!
//! Each layer is a thin skin over one lifecycle call (see
//! [`lifecycle`](crate::lifecycle)): it reads a typed request body, calls
//! the lifecycle, and renders the typed result or the [`ApiError`] the
//! failure converts to, byte for byte as djangorestframework-simplejwt
//! answers.
//!
//! | layer | answers |
//! | --- | --- |
//! | [`IssueLayer`] | `POST /api/token/`: credentials in, a pair out |
//! | [`RefreshLayer`] | `POST /api/token/refresh/` |
//! | [`VerifyLayer`] | `POST /api/token/verify/` |
//! | [`BlacklistLayer`] | `POST /api/token/blacklist/` (logout) |
//! | [`TokenEndpointsLayer`] | the four above |
//! | [`JwksLayer`] | `GET /.well-known/jwks.json` and OpenID discovery |
//! | [`AuthLayer`] | every other request: `Authorization: Bearer <access>`, automatic refresh |
//! | [`JwtLayer`] | all of the above in one layer |
//! | `openapi::OpenApiLayer` | `GET /api/schema/` and `/api/docs/`: the OpenAPI document and its docs page (feature `openapi`) |
//!
//! # Examples
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::http::{AuthLayer, TokenEndpointsLayer};
//! use tower_simplejwt::Jwt;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let app = ServiceBuilder::new()
//!     .layer(TokenEndpointsLayer::new(jwt.clone()))
//!     .layer(AuthLayer::new(jwt))
//!     .service(service_fn(|_: Request<Full<bytes::Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::from("protected")))
//!     }));
//! let anonymous = Request::get("/reports").body(Full::default()).unwrap();
//! assert_eq!(app.oneshot(anonymous).await.unwrap().status(), 401);
//! # });
//! ```

mod answer_future;
pub mod auth;
mod body;
mod cookies;
mod delivery;
pub mod endpoint;
mod error;
mod grpc_status;
pub mod jwks;
mod jwt_layer;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;

pub use auth::{AuthLayer, AuthService};
pub use body::ResponseBody;
pub use endpoint::blacklist::{BlacklistLayer, BlacklistService};
pub use endpoint::issue::{IssueLayer, IssueService};
pub use endpoint::refresh::{RefreshLayer, RefreshService};
pub use endpoint::verify::{VerifyLayer, VerifyService};
pub use endpoint::{TokenEndpoints, TokenEndpointsLayer};
pub use error::{ApiError, WWW_AUTHENTICATE_BEARER};
pub use jwks::{JwksLayer, JwksService};
pub use jwt_layer::JwtLayer;

pub(crate) use error::json_response;
pub(crate) use grpc_status::{is_grpc, render};
