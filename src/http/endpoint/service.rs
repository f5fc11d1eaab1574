use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use tower_layer::Layer;
use tower_service::Service;

use super::request::{read_request, Fallback};
use super::{blacklist, issue, refresh, verify, EndpointKind, ResponseFuture, Routes};
use crate::http::delivery::forbid_storing;
use crate::http::{cookies, json_response, ApiError, ResponseBody};
use crate::Jwt;

/// Applies [`EndpointService`]; see the [module documentation](super).
pub struct EndpointLayer<R> {
    jwt: Jwt,
    _routes: PhantomData<fn() -> R>,
}

impl<R> EndpointLayer<R> {
    /// A layer answering `R`'s endpoints with the shared state `jwt`.
    pub fn new(jwt: Jwt) -> Self {
        EndpointLayer {
            jwt,
            _routes: PhantomData,
        }
    }
}

impl<R> Clone for EndpointLayer<R> {
    fn clone(&self) -> Self {
        EndpointLayer::new(self.jwt.clone())
    }
}

impl<R> fmt::Debug for EndpointLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointLayer")
            .field("routes", &std::any::type_name::<R>())
            .finish_non_exhaustive()
    }
}

impl<R, S> Layer<S> for EndpointLayer<R> {
    type Service = EndpointService<R, S>;

    fn layer(&self, inner: S) -> Self::Service {
        EndpointService {
            inner,
            jwt: self.jwt.clone(),
            _routes: PhantomData,
        }
    }
}

/// Answers the token endpoints chosen by `R` and passes other requests to `S`.
pub struct EndpointService<R, S> {
    inner: S,
    jwt: Jwt,
    _routes: PhantomData<fn() -> R>,
}

impl<R, S: Clone> Clone for EndpointService<R, S> {
    fn clone(&self) -> Self {
        EndpointService {
            inner: self.inner.clone(),
            jwt: self.jwt.clone(),
            _routes: PhantomData,
        }
    }
}

impl<R, S: fmt::Debug> fmt::Debug for EndpointService<R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointService")
            .field("routes", &std::any::type_name::<R>())
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<R, S> EndpointService<R, S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<R, S, ReqBody, ResBody> Service<Request<ReqBody>> for EndpointService<R, S>
where
    R: Routes,
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
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
        match R::route(&self.jwt.config().paths, request.uri().path()) {
            Some(kind) => {
                ResponseFuture::endpoint(Box::pin(answer(self.jwt.clone(), kind, request)))
            }
            None => ResponseFuture::inner(self.inner.call(request)),
        }
    }
}

const ALLOWED: HeaderValue = HeaderValue::from_static("POST, OPTIONS");

/// One endpoint request, start to finish.
async fn answer<B>(jwt: Jwt, kind: EndpointKind, request: Request<B>) -> Response<Full<Bytes>>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut response = match answer_json(&jwt, kind, request).await {
        Ok(response) => response,
        Err(error) => {
            // Failures of a store or of the server were logged with their
            // cause where they became an `ApiError`.
            tracing::debug!(endpoint = ?kind, %error, "token endpoint answered with an error");
            error.into_response()
        }
    };
    // DRF lists the view's methods on every response of a token endpoint.
    response.headers_mut().insert(ALLOW, ALLOWED);
    // Ours: token answers are never stored by a cache (RFC 6749 §5.1); the
    // refusals too, so that no answer of a token endpoint is ever replayed.
    forbid_storing(response.headers_mut());
    response
}

async fn answer_json<B>(
    jwt: &Jwt,
    kind: EndpointKind,
    request: Request<B>,
) -> Result<Response<Full<Bytes>>, ApiError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match *request.method() {
        Method::POST => {}
        Method::OPTIONS => {
            let metadata = serde_json::from_str(kind.metadata()).map_err(|_| ApiError::Internal)?;
            return Ok(json_response(StatusCode::OK, &metadata));
        }
        ref other => return Err(ApiError::MethodNotAllowed(other.clone())),
    }
    let config = jwt.config();
    let limit = config.max_body_bytes;
    match kind {
        EndpointKind::Issue => issue::answer(jwt, read_request(request, limit, None).await?).await,
        EndpointKind::Refresh => {
            let fallback = refresh_cookie(jwt, &request);
            refresh::answer(jwt, read_request(request, limit, fallback).await?).await
        }
        EndpointKind::Verify => {
            verify::answer(jwt, read_request(request, limit, None).await?).await
        }
        EndpointKind::Blacklist => {
            let fallback = refresh_cookie(jwt, &request);
            blacklist::answer(jwt, read_request(request, limit, fallback).await?).await
        }
    }
}

/// In cookie mode, the refresh cookie stands in for a body without `refresh`.
fn refresh_cookie<B>(jwt: &Jwt, request: &Request<B>) -> Option<Fallback> {
    let settings = &jwt.config().cookies;
    if !settings.enabled {
        return None;
    }
    let value = cookies::cookie(request.headers(), &settings.refresh_name)?;
    Some(Fallback {
        field: "refresh",
        value: value.to_owned(),
    })
}
