use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::credentials::Subject;
use crate::error::ApiError;
use crate::store::BoxFuture;
use crate::token::Claims;

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
        LookingUp {
            lookup: BoxFuture<'static, Result<Subject, ApiError>>,
            pending: Option<(Request<ReqBody>, Claims, S)>,
        },
        Inner { #[pin] future: S::Future },
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

    pub(crate) fn inner(future: S::Future) -> Self {
        ResponseFuture {
            state: State::Inner { future },
        }
    }

    pub(crate) fn looking_up(
        lookup: BoxFuture<'static, Result<Subject, ApiError>>,
        request: Request<ReqBody>,
        claims: Claims,
        service: S,
    ) -> Self {
        ResponseFuture {
            state: State::LookingUp {
                lookup,
                pending: Some((request, claims, service)),
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
                StateProj::LookingUp { lookup, pending } => {
                    let outcome = ready!(lookup.as_mut().poll(cx));
                    let Some((mut request, claims, mut service)) = pending.take() else {
                        return Poll::Ready(Ok(ApiError::Internal
                            .into_response()
                            .map(ResponseBody::own)));
                    };
                    match outcome {
                        Ok(subject) => {
                            request.extensions_mut().insert(claims);
                            request.extensions_mut().insert(subject);
                            let future = service.call(request);
                            this.state.set(State::Inner { future });
                        }
                        Err(error) => {
                            tracing::debug!(%error, "request refused");
                            return Poll::Ready(Ok(error.into_response().map(ResponseBody::own)));
                        }
                    }
                }
                StateProj::Inner { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
            }
        }
    }
}
