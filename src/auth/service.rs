use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::future::Authenticated;
use super::header::{credential, Credential};
use super::ResponseFuture;
use crate::body::ResponseBody;
use crate::credentials::{RemoteClaims, RemoteSubject, Subject};
use crate::error::{is_grpc, render, ApiError, TokenError};
use crate::refresh::exchange;
use crate::token::{Claims, Expected, TokenKind, UserIdClaim};
use crate::transport::{self, IssuedTokens};
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
    /// A valid access token: look its user up.
    LookUp(Claims),
    /// An access token sound but for its expiry, and a refresh credential.
    AutoRefresh {
        expired: Claims,
        refresh_token: String,
    },
    /// A remote issuer's token naming a key we do not have yet, or the
    /// issuer's keys are too old: fetch them, then verify.
    #[cfg(feature = "remote-jwks")]
    Refetch {
        issuer: std::sync::Arc<crate::remote::Issuer>,
        token: String,
    },
    /// A valid access token of a remote issuer: its subject is that
    /// issuer's, never looked up locally by id.
    #[cfg(feature = "remote-jwks")]
    Remote {
        issuer: std::sync::Arc<crate::remote::Issuer>,
        claims: Claims,
    },
}

impl<S> AuthService<S> {
    fn verdict<B>(&self, request: &Request<B>) -> Verdict {
        let config = self.jwt.config();
        let headers = request.headers();
        let token = match credential(
            headers.get(self.jwt.auth_header()),
            &config.auth_header_types,
        ) {
            Credential::Token(token) => token,
            Credential::Malformed => return Verdict::Refuse(ApiError::BadAuthorizationHeader),
            Credential::Absent => match config.cookies.enabled {
                true => match transport::cookie(headers, &config.cookies.access_name) {
                    Some(token) => token,
                    None if self.required => {
                        return Verdict::Refuse(ApiError::CredentialsNotProvided)
                    }
                    None => return Verdict::PassAnonymous,
                },
                false if self.required => return Verdict::Refuse(ApiError::CredentialsNotProvided),
                false => return Verdict::PassAnonymous,
            },
        };
        #[cfg(feature = "remote-jwks")]
        if let Some(remote) = self.jwt.remote_for(token) {
            if let Some(verdict) = remote_verdict(remote, token) {
                return verdict;
            }
        }
        let claims = match self
            .jwt
            .codec()
            .verify(token, Expected::Kind(TokenKind::Access))
        {
            Ok(claims) => claims,
            Err(TokenError::Expired) if config.auto_refresh.enabled => {
                return self.auto_refresh_verdict(token, request)
            }
            Err(error) => return Verdict::Refuse(ApiError::AccessTokenRefused(error)),
        };
        Verdict::LookUp(claims)
    }

    /// An expired access token is refreshed only when it is sound in every
    /// other way and a refresh credential comes with it.
    fn auto_refresh_verdict<B>(&self, token: &str, request: &Request<B>) -> Verdict {
        let expired_error = Verdict::Refuse(ApiError::AccessTokenRefused(TokenError::Expired));
        let config = self.jwt.config();
        let headers = request.headers();
        let refresh_token = headers
            .get(&self.jwt.refresh_headers().request)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .or_else(|| {
                config
                    .cookies
                    .enabled
                    .then(|| transport::cookie(headers, &config.cookies.refresh_name))
                    .flatten()
            });
        let Some(refresh_token) = refresh_token else {
            return expired_error;
        };
        match self
            .jwt
            .codec()
            .verify_even_if_expired(token, Expected::Kind(TokenKind::Access))
        {
            Ok(verified) if verified.expired => Verdict::AutoRefresh {
                expired: verified.claims,
                refresh_token: refresh_token.to_owned(),
            },
            _ => expired_error,
        }
    }
}

/// The verdict on a token another issuer may have signed; `None` when no
/// configured issuer claims it.
#[cfg(feature = "remote-jwks")]
fn remote_verdict(remote: &crate::remote::RemoteIssuers, token: &str) -> Option<Verdict> {
    let expected = Expected::Kind(TokenKind::Access);
    // A token verified before needs no reading of its `iss`, while the
    // issuer's keys are not too old.
    let issuer = match remote.verify_remembered(token, expected) {
        Some((issuer, verified)) if !issuer.keys_expired() => {
            return Some(remote_subject_verdict(issuer, verified))
        }
        Some((issuer, _)) => issuer,
        None => remote.issuer_of(token)?,
    };
    // The keys are looked at before verifying: keys swapped in between then
    // only send the request through the (no-op) refetch.
    if issuer.needs_refetch_for(token) {
        return Some(Verdict::Refetch {
            issuer: issuer.clone(),
            token: token.to_owned(),
        });
    }
    Some(remote_subject_verdict(
        issuer,
        issuer.verify(token, expected),
    ))
}

/// A verified remote token's subject to resolve, or the contract's refusal.
#[cfg(feature = "remote-jwks")]
fn remote_subject_verdict(
    issuer: &std::sync::Arc<crate::remote::Issuer>,
    verified: Result<Claims, TokenError>,
) -> Verdict {
    match verified {
        Ok(claims) => Verdict::Remote {
            issuer: issuer.clone(),
            claims,
        },
        Err(error) => Verdict::Refuse(ApiError::AccessTokenRefused(error)),
    }
}

/// Who a verified remote token authenticates: the issuer's subject, or the
/// local user the issuer's mapping names for it. The local user store is
/// never asked about a remote id.
#[cfg(feature = "remote-jwks")]
async fn remote_subject(
    jwt: &Jwt,
    issuer: &crate::remote::Issuer,
    claims: Claims,
) -> Result<Authenticated, ApiError> {
    let remote = Subject::remote(issuer.name(), user_id_of(&claims)?);
    let local = match issuer.subject_mapping() {
        Some(mapping) => mapping.local_subject(&remote, &claims).await?,
        None => None,
    };
    Ok(match local {
        Some(local) => Authenticated {
            subject: Subject {
                issuer: None,
                ..active_subject(jwt, Ok(Some(local)))?
            },
            mapped_from: Some(remote),
            claims,
            issued: None,
        },
        None => Authenticated {
            subject: remote,
            mapped_from: None,
            claims,
            issued: None,
        },
    })
}

/// The user id a verified token names, or the contract's refusal.
fn user_id_of(claims: &Claims) -> Result<&str, ApiError> {
    match &claims.user_id {
        UserIdClaim::Id(id) => Ok(id),
        UserIdClaim::Missing => Err(ApiError::NoUserIdentification),
        UserIdClaim::Unusable => Err(ApiError::UserNotFound),
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
                }) as crate::store::BoxFuture<'static, _>
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
                    remote_subject(&jwt, &issuer, claims).await
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
                Box::pin(async move { remote_subject(&jwt, &issuer, claims).await })
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
        ResponseFuture::authenticating(authentication, request, inner, self.jwt.clone(), grpc)
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
        let issued = issued.map(|issued| Box::new((issued, self.jwt.clone())));
        ResponseFuture::inner(self.inner.call(request), issued)
    }
}

impl Authenticated {
    /// Puts the claims and subjects where handlers read them: a local user
    /// as [`Subject`], a remote issuer's subject as [`RemoteSubject`] (so
    /// code reading `Subject` never sees another issuer's user); our own
    /// token's claims as [`Claims`], a remote token's as [`RemoteClaims`],
    /// mapped to a local user or not (the claims are still the issuer's);
    /// returns the tokens minted on the way.
    pub(crate) fn into_extensions(self, extensions: &mut http::Extensions) -> Option<IssuedTokens> {
        let remote_issuer = match &self.mapped_from {
            Some(remote) => remote.issuer.clone(),
            None => self.subject.issuer.clone(),
        };
        match remote_issuer {
            Some(issuer) => {
                extensions.insert(RemoteClaims {
                    issuer,
                    claims: self.claims,
                });
            }
            None => {
                extensions.insert(self.claims);
            }
        }
        if self.subject.is_local() {
            extensions.insert(self.subject);
        } else {
            extensions.insert(RemoteSubject(self.subject));
        }
        if let Some(remote) = self.mapped_from {
            extensions.insert(RemoteSubject(remote));
        }
        self.issued
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

/// The subject of a verified token, or the contract's refusal.
async fn look_up(jwt: &Jwt, user_id: &str) -> Result<Subject, ApiError> {
    active_subject(jwt, jwt.authenticator().subject(user_id).await)
}

/// The contract's rules on a looked-up subject: it exists and (unless
/// configured otherwise) is active.
fn active_subject(
    jwt: &Jwt,
    found: Result<Option<Subject>, crate::credentials::UserStoreError>,
) -> Result<Subject, ApiError> {
    match found? {
        Some(subject) if subject.is_active || !jwt.config().check_user_is_active => Ok(subject),
        Some(_) => Err(ApiError::UserInactive),
        None => Err(ApiError::UserNotFound),
    }
}

/// Refreshes an expired access token with the request's refresh token, as the
/// refresh endpoint would. A refresh token that is blacklisted (reused after
/// the grace window, logged out, revoked) gets the "Token is blacklisted"
/// answer; any other failure is the plain "Token is expired" 401.
async fn auto_refresh(
    jwt: &Jwt,
    expired: &Claims,
    refresh_token: &str,
) -> Result<Authenticated, ApiError> {
    let expired_error = ApiError::AccessTokenRefused(TokenError::Expired);
    let Ok(refresh) = jwt
        .codec()
        .verify(refresh_token, Expected::Kind(TokenKind::Refresh))
    else {
        return Err(expired_error);
    };
    if refresh.subject().is_none() || refresh.subject() != expired.subject() {
        return Err(expired_error);
    }
    let exchanged = match exchange(jwt, &refresh, refresh_token).await {
        Ok(exchanged) => exchanged,
        Err(
            error @ (ApiError::Token(TokenError::Blacklisted)
            | ApiError::StoreUnavailable
            | ApiError::Internal),
        ) => return Err(error),
        Err(_) => return Err(expired_error),
    };
    let claims = exchanged.access.claims;
    let subject = look_up(jwt, user_id_of(&claims)?).await?;
    tracing::debug!(subject = %subject.id, "expired access token refreshed automatically");
    Ok(Authenticated {
        subject,
        mapped_from: None,
        claims,
        issued: Some(IssuedTokens {
            access: exchanged.access.token,
            refresh: exchanged.refresh,
        }),
    })
}
