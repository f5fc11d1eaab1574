//! Who a verified token authenticates: the user lookup, automatic refresh,
//! and what goes into the request's extensions.

use super::future::Authenticated;
use crate::credentials::UserStoreError;
use crate::credentials::{RemoteClaims, RemoteSubject, Subject};
use crate::http::delivery::IssuedTokens;
use crate::http::ApiError;
use crate::token::{Claims, Expected, TokenError, TokenKind, UserIdClaim};
use crate::{Jwt, LifecycleError};

/// The user id a verified token names, or the contract's refusal.
pub(super) fn user_id_of(claims: &Claims) -> Result<&str, ApiError> {
    match &claims.user_id {
        UserIdClaim::Id(id) => Ok(id),
        UserIdClaim::Missing => Err(ApiError::NoUserIdentification),
        UserIdClaim::Unusable => Err(ApiError::UserNotFound),
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

/// The subject of a verified token, or the contract's refusal.
pub(super) async fn look_up(jwt: &Jwt, user_id: &str) -> Result<Subject, ApiError> {
    active_subject(jwt, jwt.authenticator().subject(user_id).await)
}

/// The contract's rules on a looked-up subject: it exists and (unless
/// configured otherwise) is active.
pub(super) fn active_subject(
    jwt: &Jwt,
    found: Result<Option<Subject>, UserStoreError>,
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
pub(super) async fn auto_refresh(
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
    let refreshed = match jwt.refresh_verified(&refresh, refresh_token).await {
        Ok(refreshed) => refreshed,
        Err(LifecycleError::Token(TokenError::Blacklisted)) => {
            return Err(ApiError::Token(TokenError::Blacklisted))
        }
        Err(error) if !error.is_refusal() => return Err(error.into()),
        Err(_) => return Err(expired_error),
    };
    let claims = refreshed.access.claims;
    // The user was read while refreshing: reading it again after the
    // rotation committed could fail and lose the successor.
    let subject = match refreshed.subject {
        Some(subject) => subject,
        None => look_up(jwt, user_id_of(&claims)?).await?,
    };
    tracing::debug!(subject = %subject.id, "expired access token refreshed automatically");
    Ok(Authenticated {
        subject,
        mapped_from: None,
        claims,
        issued: Some(IssuedTokens {
            access: refreshed.access.token,
            refresh: refreshed.refresh.map(|successor| successor.token),
        }),
    })
}
