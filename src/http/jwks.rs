//! [`JwksLayer`]: publishes the public keys, and OpenID discovery.
//!
//! `GET /.well-known/jwks.json` answers the key set's public keys as a JWK
//! Set (RFC 7517) — never an HMAC secret — with `Cache-Control: max-age`
//! from [`JwtConfig::jwks_max_age`](crate::config::JwtConfig::jwks_max_age).
//! When an issuer is configured, `GET /.well-known/openid-configuration`
//! answers `{"issuer", "jwks_uri"}`, so OIDC-aware verifiers trust our
//! tokens with their usual setup. Every other request goes to the inner
//! service.
//!
//! # Examples
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use tower::{service_fn, Layer, ServiceExt};
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::http::JwksLayer;
//! use tower_simplejwt::Jwt;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let app = JwksLayer::new(jwt).layer(service_fn(|_: Request<Full<bytes::Bytes>>| async {
//!     Ok::<_, Infallible>(Response::new(Full::<bytes::Bytes>::default()))
//! }));
//! let response = app.oneshot(Request::get("/.well-known/jwks.json").body(Full::default()).unwrap()).await.unwrap();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers()["cache-control"], "public, max-age=300");
//! # });
//! ```

use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use serde_json::json;
use tower_layer::Layer;
use tower_service::Service;

pub use crate::http::answer_future::ResponseFuture;
use crate::http::ResponseBody;
use crate::http::{json_response, ApiError};
use crate::Jwt;

/// Applies [`JwksService`]; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct JwksLayer {
    jwt: Jwt,
}

impl JwksLayer {
    /// Publishes `jwt`'s public keys.
    pub fn new(jwt: Jwt) -> Self {
        JwksLayer { jwt }
    }
}

impl<S> Layer<S> for JwksLayer {
    type Service = JwksService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JwksService {
            inner,
            jwt: self.jwt.clone(),
        }
    }
}

/// Answers the JWKS and discovery documents, passes other requests to `S`.
#[derive(Debug, Clone)]
pub struct JwksService<S> {
    inner: S,
    jwt: Jwt,
}

impl<S> JwksService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The document at `path`, if it is one of ours.
    fn document(&self, path: &str) -> Option<serde_json::Value> {
        let config = self.jwt.config();
        if path == config.paths.jwks {
            return serde_json::to_value(self.jwt.codec().key_set().jwks()).ok();
        }
        let issuer = config.issuer.as_deref()?;
        (path == config.paths.openid_configuration).then(|| {
            json!({
                "issuer": issuer,
                "jwks_uri": format!("{}{}", issuer.trim_end_matches('/'), config.paths.jwks),
                "id_token_signing_alg_values_supported": [format!("{:?}", self.jwt.codec().algorithm())],
            })
        })
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for JwksService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let Some(document) = self.document(request.uri().path()) else {
            return ResponseFuture::inner(self.inner.call(request));
        };
        let response = match *request.method() {
            Method::GET | Method::HEAD => {
                let mut response = json_response(StatusCode::OK, &document);
                let max_age = self.jwt.config().jwks_max_age.as_secs();
                if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
                    response.headers_mut().insert(CACHE_CONTROL, value);
                }
                response
            }
            ref other => {
                let mut response = ApiError::MethodNotAllowed(other.clone()).into_response();
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
                response
            }
        };
        ResponseFuture::endpoint(Box::pin(std::future::ready(response))
            as crate::future::BoxFuture<'static, Response<Full<Bytes>>>)
    }
}
