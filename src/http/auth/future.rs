use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::credentials::Subject;
use crate::future::BoxFuture;
use crate::http::delivery::{deliver, HeaderNames, IssuedTokens};
use crate::http::{render, ApiError, ResponseBody};
use crate::token::Claims;
use crate::Jwt;

/// Tokens refreshed on the way, and what delivering them needs.
pub(crate) struct Delivery {
    pub(crate) issued: IssuedTokens,
    pub(crate) jwt: Jwt,
    pub(crate) names: Arc<HeaderNames>,
}

/// Who a request was authenticated as, and tokens minted on the way.
pub(crate) struct Authenticated {
    /// The local user, or (for a remote token no mapping made local) the
    /// remote subject, told apart by its `issuer`.
    pub(crate) subject: Subject,
    /// The remote subject a mapping made `subject`.
    pub(crate) mapped_from: Option<Subject>,
    pub(crate) claims: Claims,
    pub(crate) issued: Option<IssuedTokens>,
}

pin_project! {
    /// The response future of [`AuthService`](super::AuthService).
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        Refused { response: Option<Response<Full<Bytes>>> },
        // Awaiting the user store (and, for automatic refresh, the token
        // store) through trait objects.
        Authenticating {
            authentication: BoxFuture<'static, Result<Authenticated, ApiError>>,
            pending: Option<(Request<ReqBody>, S, Jwt, Arc<HeaderNames>)>,
            grpc: bool,
        },
        Inner {
            #[pin]
            future: S::Future,
            // Tokens refreshed on the way (rare): boxed to keep the future small.
            issued: Option<Box<Delivery>>,
        },
    }
}

impl<S: Service<Request<ReqBody>>, ReqBody> ResponseFuture<S, ReqBody> {
    pub(crate) fn refused(response: Response<Full<Bytes>>) -> Self {
        ResponseFuture {
            state: State::Refused {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(future: S::Future, issued: Option<Box<Delivery>>) -> Self {
        ResponseFuture {
            state: State::Inner { future, issued },
        }
    }

    pub(crate) fn authenticating(
        authentication: BoxFuture<'static, Result<Authenticated, ApiError>>,
        request: Request<ReqBody>,
        service: S,
        jwt: Jwt,
        names: Arc<HeaderNames>,
        grpc: bool,
    ) -> Self {
        ResponseFuture {
            state: State::Authenticating {
                authentication,
                pending: Some((request, service, jwt, names)),
                grpc,
            },
        }
    }
}

impl<S: Service<Request<ReqBody>>, ReqBody> fmt::Debug for ResponseFuture<S, ReqBody> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Refused { response } => {
                    let response = response
                        .take()
                        .unwrap_or_else(|| ApiError::Internal.into_response());
                    return Poll::Ready(Ok(response.map(ResponseBody::own)));
                }
                StateProj::Authenticating {
                    authentication,
                    pending,
                    grpc,
                } => {
                    let outcome = ready!(authentication.as_mut().poll(cx));
                    let Some((mut request, mut service, jwt, names)) = pending.take() else {
                        return Poll::Ready(Ok(ApiError::Internal
                            .into_response()
                            .map(ResponseBody::own)));
                    };
                    match outcome {
                        Ok(authenticated) => {
                            let issued = authenticated.into_extensions(request.extensions_mut());
                            let future = service.call(request);
                            let issued =
                                issued.map(|issued| Box::new(Delivery { issued, jwt, names }));
                            this.state.set(State::Inner { future, issued });
                        }
                        Err(error) => {
                            tracing::debug!(%error, "request refused");
                            return Poll::Ready(Ok(render(&error, *grpc).map(ResponseBody::own)));
                        }
                    }
                }
                StateProj::Inner { future, issued } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(delivery) = issued.take() {
                        let Delivery { issued, jwt, names } = *delivery;
                        deliver(response.headers_mut(), jwt.config(), &names, &issued);
                    }
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
            }
        }
    }
}
