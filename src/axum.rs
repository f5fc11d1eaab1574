//! axum integration (feature `axum`): extractors for the verified claims and
//! subject, errors as responses, and a router of the token endpoints.
//!
//! # Examples
//!
//! ```
//! use axum::{routing::get, Json, Router};
//! use tower_simplejwt::AuthLayer;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject};
//! use tower_simplejwt::token::Claims;
//! use tower_simplejwt::Jwt;
//!
//! async fn me(subject: Subject, claims: Claims) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({"username": subject.username, "jti": claims.jti}))
//! }
//!
//! let jwt = Jwt::builder(JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let app: Router = Router::new()
//!     .route("/api/me/", get(me))
//!     .route_layer(AuthLayer::new(jwt.clone()))
//!     .merge(tower_simplejwt::axum::token_routes(jwt));
//! ```

use std::convert::Infallible;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::credentials::{RemoteClaims, RemoteSubject, Subject};
use crate::http::ApiError;
use crate::http::TokenEndpointsLayer;
use crate::token::Claims;
use crate::Jwt;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        ApiError::into_response(&self).map(axum::body::Body::new)
    }
}

/// The verified claims of a token we issued, with the extra claims
/// deserialized into `E`.
///
/// Needs [`AuthLayer`](crate::http::AuthLayer) in front of the handler;
/// without verified claims the rejection is the contract's 401
/// "Authentication credentials were not provided.". Extra claims that do not
/// fit `E` are a server error (500 `server_error`, logged): the handler asks
/// for claims its tokens were never minted with, a bug, not a reason to log
/// the user out. A request
/// authenticated by another issuer's token has no `Claims` (mapped to a
/// local user or not): it is rejected like an anonymous one; extract
/// [`RemoteClaims`] for those.
impl<S, E> FromRequestParts<S> for Claims<E>
where
    S: Send + Sync,
    E: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let claims = parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or(ApiError::CredentialsNotProvided)?;
        extra_claims_as(claims)
    }
}

/// The claims with their extra claims as `E`, or the server error of a
/// handler asking for claims its tokens do not carry.
fn extra_claims_as<E: DeserializeOwned>(claims: Claims) -> Result<Claims<E>, ApiError> {
    claims.extra_as::<E>().map_err(|error| {
        tracing::error!(
            %error,
            claims_type = std::any::type_name::<E>(),
            "the verified token's extra claims do not fit the handler's claims type"
        );
        ApiError::Internal
    })
}

/// `Option<Claims<E>>`: `None` for an anonymous request (with
/// [`AuthLayer::optional`](crate::http::AuthLayer::optional)); claims that
/// do not fit `E` are the same server error as for `Claims<E>`.
impl<S, E> OptionalFromRequestParts<S> for Claims<E>
where
    S: Send + Sync,
    E: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, ApiError> {
        match parts.extensions.get::<Claims>().cloned() {
            Some(claims) => extra_claims_as(claims).map(Some),
            None => Ok(None),
        }
    }
}

/// The authenticated local user. A request authenticated by another
/// issuer's token has none (unless the issuer's subject mapping named one):
/// it is rejected like an anonymous one; extract
/// [`RemoteSubject`] for those.
impl<S: Send + Sync> FromRequestParts<S> for Subject {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Subject>()
            .cloned()
            .ok_or(ApiError::CredentialsNotProvided)
    }
}

/// `Option<Subject>`: `None` for an anonymous request.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Subject {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get::<Subject>().cloned())
    }
}

/// The subject of another issuer's token (feature `remote-jwks`): its
/// `issuer` says whose user it is. Rejected with the contract's 401
/// "Authentication credentials were not provided." when the request was not
/// authenticated by a remote token. A remote subject is never a [`Subject`]
/// extractor's answer: `Subject` is a local user only.
impl<S: Send + Sync> FromRequestParts<S> for RemoteSubject {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<RemoteSubject>()
            .cloned()
            .ok_or(ApiError::CredentialsNotProvided)
    }
}

/// `Option<RemoteSubject>`: `None` unless a remote token authenticated the request.
impl<S: Send + Sync> OptionalFromRequestParts<S> for RemoteSubject {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get::<RemoteSubject>().cloned())
    }
}

/// The verified claims of another issuer's token (feature `remote-jwks`),
/// with that issuer's `iss`. Rejected with the contract's 401
/// "Authentication credentials were not provided." when the request was not
/// authenticated by a remote token. Remote claims are never a [`Claims`]
/// extractor's answer: `Claims` are those of our own tokens only.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::RemoteClaims;
///
/// async fn partner(remote: RemoteClaims) -> String {
///     format!("{} of {:?}", remote.issuer, remote.claims.user_id)
/// }
/// let _: axum::Router = axum::Router::new().route("/partner/", axum::routing::get(partner));
/// ```
impl<S: Send + Sync> FromRequestParts<S> for RemoteClaims {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<RemoteClaims>()
            .cloned()
            .ok_or(ApiError::CredentialsNotProvided)
    }
}

/// `Option<RemoteClaims>`: `None` unless a remote token authenticated the request.
impl<S: Send + Sync> OptionalFromRequestParts<S> for RemoteClaims {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get::<RemoteClaims>().cloned())
    }
}

/// A router answering the four token endpoints at the configured paths.
/// Merge it into your app.
pub fn token_routes<S: Clone + Send + Sync + 'static>(jwt: Jwt) -> Router<S> {
    let paths = jwt.config().paths.clone();
    let endpoints = TokenEndpointsLayer::new(jwt);
    let mut router = Router::new();
    for path in [
        &paths.issue,
        &paths.refresh,
        &paths.verify,
        &paths.blacklist,
    ] {
        let service = tower_layer::Layer::layer(&endpoints, tower_service_not_found());
        router = router.route_service(path, service);
    }
    router
}

/// The service behind the endpoints in [`token_routes`]: never reached,
/// since every routed path is an endpoint.
fn tower_service_not_found() -> axum::routing::MethodRouter<()> {
    axum::routing::any(|| async { http::StatusCode::NOT_FOUND })
}
