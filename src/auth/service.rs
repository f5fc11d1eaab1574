use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::header::{credential, Credential};
use super::ResponseFuture;
use crate::body::ResponseBody;
use crate::credentials::Subject;
use crate::error::ApiError;
use crate::token::{Claims, Expected, TokenKind, UserIdClaim};
use crate::Jwt;

/// Authenticates requests, then calls `S`; see the [module documentation](super).
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    jwt: Jwt,
    required: bool,
}

impl<S> AuthService<S> {
    pub(crate) fn new(inner: S, jwt: Jwt, required: bool) -> Self {
        AuthService {
            inner,
            jwt,
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

/// What the synchronous part of authentication decided.
enum Verdict {
    Refuse(ApiError),
    PassAnonymous,
    LookUp { claims: Claims, user_id: String },
}

impl<S> AuthService<S> {
    fn verdict<B>(&self, request: &Request<B>) -> Verdict {
        let config = self.jwt.config();
        let header = request.headers().get(self.jwt.auth_header());
        let token = match credential(header, &config.auth_header_types) {
            Credential::Token(token) => token,
            Credential::Absent if self.required => {
                return Verdict::Refuse(ApiError::CredentialsNotProvided)
            }
            Credential::Absent => return Verdict::PassAnonymous,
            Credential::Malformed => return Verdict::Refuse(ApiError::BadAuthorizationHeader),
        };
        let claims = match self
            .jwt
            .codec()
            .verify(token, Expected::Kind(TokenKind::Access))
        {
            Ok(claims) => claims,
            Err(error) => return Verdict::Refuse(ApiError::AccessTokenRefused(error)),
        };
        let user_id = match &claims.user_id {
            UserIdClaim::Id(id) => id.clone(),
            UserIdClaim::Missing => return Verdict::Refuse(ApiError::NoUserIdentification),
            UserIdClaim::Unusable => return Verdict::Refuse(ApiError::UserNotFound),
        };
        Verdict::LookUp { claims, user_id }
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
        match self.verdict(&request) {
            Verdict::Refuse(error) => {
                tracing::debug!(%error, path = %request.uri().path(), "request refused");
                ResponseFuture::refused(error.into_response())
            }
            Verdict::PassAnonymous => ResponseFuture::inner(self.inner.call(request)),
            Verdict::LookUp { claims, user_id } => {
                // The inner service was made ready by poll_ready: keep that
                // one for this request and leave a fresh clone in its place.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let lookup = look_up(
                    self.jwt.authenticator().clone(),
                    user_id,
                    self.jwt.config().check_user_is_active,
                );
                ResponseFuture::looking_up(Box::pin(lookup), request, claims, inner)
            }
        }
    }
}

/// The subject of a verified token, or the contract's refusal.
async fn look_up(
    authenticator: Arc<dyn crate::credentials::Authenticator>,
    user_id: String,
    check_user_is_active: bool,
) -> Result<Subject, ApiError> {
    match authenticator.subject(&user_id).await {
        Ok(Some(subject)) if subject.is_active || !check_user_is_active => Ok(subject),
        Ok(Some(_)) => Err(ApiError::UserInactive),
        Ok(None) => Err(ApiError::UserNotFound),
        Err(error) => Err(ApiError::from(error)),
    }
}
