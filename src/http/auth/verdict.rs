//! The synchronous part of authentication: what a request's credentials call for.

use http::Request;

use super::header::{credential, Credential};
use super::AuthService;
use crate::http::{cookies, ApiError};
use crate::token::{Claims, Expected, TokenError, TokenKind};

/// What the synchronous part of authentication decided.
pub(super) enum Verdict {
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
    pub(super) fn verdict<B>(&self, request: &Request<B>) -> Verdict {
        let config = self.jwt.config();
        let headers = request.headers();
        let token = match credential(headers.get(&self.names.auth), &config.auth_header_types) {
            Credential::Token(token) => token,
            Credential::Malformed => return Verdict::Refuse(ApiError::BadAuthorizationHeader),
            Credential::Absent => match config.cookies.enabled {
                true => match cookies::cookie(headers, &config.access_cookie_name()) {
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
            if let Some(verdict) = super::remote::remote_verdict(remote, token) {
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
    /// other way and a refresh credential comes with it, and, in cookie
    /// mode, only on a request that is not cross-site: the browser drops
    /// the cookies of a cross-site answer, so the rotated tokens would be
    /// lost. Such a request is answered as with an expired token.
    fn auto_refresh_verdict<B>(&self, token: &str, request: &Request<B>) -> Verdict {
        let expired_error = Verdict::Refuse(ApiError::AccessTokenRefused(TokenError::Expired));
        let config = self.jwt.config();
        let headers = request.headers();
        if config.cookies.enabled && cookies::is_cross_site(headers, request.uri()) {
            tracing::debug!("cross-site request in cookie mode: no automatic refresh");
            return expired_error;
        }
        let refresh_token = headers
            .get(&self.names.request)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .or_else(|| {
                config
                    .cookies
                    .enabled
                    .then(|| cookies::cookie(headers, &config.refresh_cookie_name()))
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
