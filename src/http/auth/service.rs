use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use std::sync::Arc;

use super::future::{Authenticated, Delivery};
use super::subject::{active_subject, auto_refresh, look_up, user_id_of};
use super::verdict::Verdict;
use super::ResponseFuture;
use crate::http::delivery::HeaderNames;
use crate::http::{is_grpc, render, ApiError, ResponseBody};
use crate::Jwt;
#[cfg(feature = "remote-jwks")]
use crate::{
    credentials::Subject,
    token::{Expected, TokenKind},
};

/// Authenticates requests, then calls `S`; see the [module documentation](super).
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    pub(super) jwt: Jwt,
    pub(super) names: Arc<HeaderNames>,
    pub(super) required: bool,
}

impl<S> AuthService<S> {
    pub(crate) fn new(inner: S, jwt: Jwt, names: Arc<HeaderNames>, required: bool) -> Self {
        AuthService {
            inner,
            jwt,
            names,
            required,
        }
    }

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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
    ResBody: Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let mut authentication = match self.verdict(&request) {
            Verdict::Refuse(error) => return refuse(error, &request),
            Verdict::PassAnonymous => return ResponseFuture::inner(self.inner.call(request), None),
            Verdict::LookUp(claims) => {
                let user_id = match user_id_of(&claims) {
                    Ok(user_id) => user_id,
                    Err(error) => return refuse(error, &request),
                };
                // Users in memory answer at once: no future, no allocation.
                if let Some(found) = self.jwt.authenticator().subject_now(user_id) {
                    return match active_subject(&self.jwt, found) {
                        Ok(subject) => self.serve(
                            request,
                            Authenticated {
                                subject,
                                mapped_from: None,
                                claims,
                                issued: None,
                            },
                        ),
                        Err(error) => refuse(error, &request),
                    };
                }
                let user_id = user_id.to_owned();
                let jwt = self.jwt.clone();
                Box::pin(async move {
                    let subject = look_up(&jwt, &user_id).await?;
                    Ok(Authenticated {
                        subject,
                        mapped_from: None,
                        claims,
                        issued: None,
                    })
                }) as crate::future::BoxFuture<'static, _>
            }
            Verdict::AutoRefresh {
                expired,
                refresh_token,
            } => {
                let jwt = self.jwt.clone();
                Box::pin(async move { auto_refresh(&jwt, &expired, &refresh_token).await })
            }
            #[cfg(feature = "remote-jwks")]
            Verdict::Refetch { issuer, token } => {
                let jwt = self.jwt.clone();
                Box::pin(async move {
                    issuer.refetch_for(&token).await;
                    let claims = issuer
                        .verify(&token, Expected::Kind(TokenKind::Access))
                        .map_err(ApiError::AccessTokenRefused)?;
                    super::remote::remote_subject(&jwt, &issuer, claims).await
                })
            }
            #[cfg(feature = "remote-jwks")]
            Verdict::Remote { issuer, claims } => {
                // Without a mapping the subject is at hand: no future.
                if issuer.subject_mapping().is_none() {
                    let remote = user_id_of(&claims).map(|id| Subject::remote(issuer.name(), id));
                    return match remote {
                        Ok(subject) => self.serve(
                            request,
                            Authenticated {
                                subject,
                                mapped_from: None,
                                claims,
                                issued: None,
                            },
                        ),
                        Err(error) => refuse(error, &request),
                    };
                }
                let jwt = self.jwt.clone();
                Box::pin(async move { super::remote::remote_subject(&jwt, &issuer, claims).await })
            }
        };
        // A store that answers at once sends the request straight to the
        // inner service that poll_ready made ready: no clone, no state
        // machine. (Polling with a no-op waker first is fine: a pending
        // future registers the real waker when polled again.)
        if let Poll::Ready(outcome) = authentication
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            return match outcome {
                Ok(authenticated) => self.serve(request, authenticated),
                Err(error) => refuse(error, &request),
            };
        }
        // The inner service was made ready by poll_ready: keep that one for
        // this request and leave a fresh clone in its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let grpc = is_grpc(request.headers());
        ResponseFuture::authenticating(
            authentication,
            request,
            inner,
            self.jwt.clone(),
            self.names.clone(),
            grpc,
        )
    }
}

impl<S> AuthService<S> {
    /// Calls the inner service (made ready by `poll_ready`) as the authenticated subject.
    fn serve<ReqBody>(
        &mut self,
        mut request: Request<ReqBody>,
        authenticated: Authenticated,
    ) -> ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        let issued = authenticated.into_extensions(request.extensions_mut());
        let issued = issued.map(|issued| {
            Box::new(Delivery {
                issued,
                jwt: self.jwt.clone(),
                names: self.names.clone(),
            })
        });
        ResponseFuture::inner(self.inner.call(request), issued)
    }
}

/// The contract's answer to a refused request, in JSON or gRPC terms
/// (after the request's content type).
fn refuse<S: Service<Request<ReqBody>>, ReqBody>(
    error: ApiError,
    request: &Request<ReqBody>,
) -> ResponseFuture<S, ReqBody> {
    tracing::debug!(%error, "request refused");
    ResponseFuture::refused(render(&error, is_grpc(request.headers())))
}
