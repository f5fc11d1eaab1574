//! tonic integration (feature `tonic`).
//!
//! [`AuthLayer`](crate::http::AuthLayer) answers gRPC calls (requests with
//! `content-type: application/grpc…`) in gRPC's own terms, with or without
//! this feature: a refused call gets a trailers-only response with
//! `grpc-status: 16` (UNAUTHENTICATED) and the contract's message in
//! `grpc-message` ("Token is expired", "Authentication credentials were not
//! provided.", …). This module adds the tonic side: reading the verified
//! claims and subject from a `tonic::Request`, and [`ApiError`] as a
//! `tonic::Status`.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::grpc::RequestAuth;
//!
//! fn who(request: &tonic::Request<()>) -> Result<String, tonic::Status> {
//!     let subject = request.subject().ok_or_else(|| tonic::Status::unauthenticated("no subject"))?;
//!     Ok(subject.username.clone())
//! }
//! assert!(who(&tonic::Request::new(())).is_err());
//! ```

use crate::credentials::{RemoteClaims, RemoteSubject, Subject};
use crate::http::ApiError;
use crate::token::Claims;

/// What [`AuthLayer`](crate::http::AuthLayer) verified, read from a tonic request.
pub trait RequestAuth {
    /// The verified claims of an access token we issued; `None` for a call
    /// authenticated by another issuer's token (mapped or not): read those
    /// with [`remote_claims`](Self::remote_claims).
    fn claims(&self) -> Option<&Claims>;
    /// The authenticated local user; `None` for a call authenticated by
    /// another issuer's token (unless its subject mapping named a local user).
    fn subject(&self) -> Option<&Subject>;
    /// The subject of another issuer's token (feature `remote-jwks`), whose
    /// `issuer` says whose user it is.
    fn remote_subject(&self) -> Option<&RemoteSubject>;
    /// The verified claims of another issuer's token (feature
    /// `remote-jwks`), with that issuer's `iss`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::grpc::RequestAuth;
    ///
    /// fn partner(request: &tonic::Request<()>) -> Result<String, tonic::Status> {
    ///     let remote = request
    ///         .remote_claims()
    ///         .ok_or_else(|| tonic::Status::unauthenticated("not a partner token"))?;
    ///     Ok(remote.issuer.clone())
    /// }
    /// assert!(partner(&tonic::Request::new(())).is_err());
    /// ```
    fn remote_claims(&self) -> Option<&RemoteClaims>;
}

impl<T> RequestAuth for tonic::Request<T> {
    fn claims(&self) -> Option<&Claims> {
        self.extensions().get::<Claims>()
    }

    fn subject(&self) -> Option<&Subject> {
        self.extensions().get::<Subject>()
    }

    fn remote_subject(&self) -> Option<&RemoteSubject> {
        self.extensions().get::<RemoteSubject>()
    }

    fn remote_claims(&self) -> Option<&RemoteClaims> {
        self.extensions().get::<RemoteClaims>()
    }
}

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        tonic::Status::new(
            tonic::Code::from(i32::from(error.grpc_code())),
            error.grpc_message(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenError;

    #[test]
    fn errors_as_statuses() {
        let status = tonic::Status::from(ApiError::AccessTokenRefused(TokenError::Expired));
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "Token is expired");
        assert_eq!(
            tonic::Status::from(ApiError::StoreUnavailable).code(),
            tonic::Code::Unavailable
        );
    }

    #[test]
    fn claims_and_subject_from_extensions() {
        let mut request = tonic::Request::new(());
        request
            .extensions_mut()
            .insert(Subject::new("1", "alice", true));
        assert_eq!(
            request.subject().map(|subject| subject.username.as_str()),
            Some("alice")
        );
        assert!(request.claims().is_none());
        assert!(request.remote_subject().is_none());
    }

    #[test]
    fn a_remote_subject_is_not_the_local_subject() {
        let mut request = tonic::Request::new(());
        request
            .extensions_mut()
            .insert(RemoteSubject(Subject::remote("https://auth.example", "1")));
        assert!(request.subject().is_none());
        assert_eq!(
            request
                .remote_subject()
                .and_then(|remote| remote.0.issuer.as_deref()),
            Some("https://auth.example")
        );
    }
}
