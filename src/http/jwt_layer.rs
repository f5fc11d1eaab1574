//! [`JwtLayer`]: the four token endpoints and authentication in one layer.

use tower_layer::Layer;

use super::auth::{AuthLayer, AuthService};
use super::endpoint::{TokenEndpoints, TokenEndpointsLayer};
use super::jwks::{JwksLayer, JwksService};
use crate::Jwt;

/// The one-line bundle: answers `/api/token/`, `/api/token/refresh/`,
/// `/api/token/verify/` and `/api/token/blacklist/` (paths from the
/// configuration), publishes the public keys at `/.well-known/jwks.json`,
/// and authenticates every other request with
/// [`AuthLayer`] before it reaches the wrapped service.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
/// use tower_simplejwt::{Jwt, JwtLayer};
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
///     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
///     .build()
///     .unwrap();
/// let app = ServiceBuilder::new()
///     .layer(JwtLayer::new(jwt))
///     .service(service_fn(|_: Request<Full<bytes::Bytes>>| async {
///         Ok::<_, Infallible>(Response::new(Full::from("secret stuff")))
///     }));
///
/// let anonymous = Request::get("/reports").body(Full::default()).unwrap();
/// assert_eq!(app.oneshot(anonymous).await.unwrap().status(), 401);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct JwtLayer {
    jwks: JwksLayer,
    endpoints: TokenEndpointsLayer,
    auth: AuthLayer,
}

impl JwtLayer {
    /// Token endpoints, and a valid access token required everywhere else.
    pub fn new(jwt: Jwt) -> Self {
        JwtLayer {
            jwks: JwksLayer::new(jwt.clone()),
            endpoints: TokenEndpointsLayer::new(jwt.clone()),
            auth: AuthLayer::new(jwt),
        }
    }

    /// Token endpoints, and requests without credentials passed on
    /// unauthenticated (see [`AuthLayer::optional`]).
    pub fn optional_auth(jwt: Jwt) -> Self {
        JwtLayer {
            jwks: JwksLayer::new(jwt.clone()),
            endpoints: TokenEndpointsLayer::new(jwt.clone()),
            auth: AuthLayer::optional(jwt),
        }
    }
}

impl<S> Layer<S> for JwtLayer {
    type Service = JwksService<TokenEndpoints<AuthService<S>>>;

    fn layer(&self, inner: S) -> Self::Service {
        self.jwks
            .layer(self.endpoints.layer(self.auth.layer(inner)))
    }
}
