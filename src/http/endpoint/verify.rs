//! The verify endpoint (`POST /api/token/verify/`): is this token valid?
//!
//! Any valid token (access, refresh, or one without a type) gets `200 {}`.
//! With `blacklist_after_rotation` on (as the reference), a refresh token
//! the store has blacklisted or rotated gets `400 {"non_field_errors":
//! ["Token is blacklisted"]}`. Access tokens are never looked up in the store.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::http::VerifyLayer;
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = VerifyLayer::new(jwt);
//! # let _ = tower::ServiceBuilder::new().layer(layer);
//! ```

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};

use super::request::{EndpointRequest, FieldErrors};
use super::{EndpointLayer, EndpointService, Verify};
use crate::http::{json_response, ApiError};
use crate::token::TokenError;
use crate::{Jwt, LifecycleError};

/// Answers the verify endpoint; see the [module documentation](self).
pub type VerifyLayer = EndpointLayer<Verify>;
/// The service of [`VerifyLayer`].
pub type VerifyService<S> = EndpointService<Verify, S>;

/// The verify endpoint's body: `{"token"}`.
#[derive(Debug)]
pub(crate) struct VerifyRequest {
    pub(crate) token: String,
}

impl EndpointRequest for VerifyRequest {
    fn from_fields(fields: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let token = errors.text(fields, "token");
        errors.finish(token.map(|token| VerifyRequest { token }))
    }
}

/// Verifies ([`Jwt::verify`]); `200 {}`, or 400 for a blacklisted refresh token.
pub(super) async fn answer(
    jwt: &Jwt,
    request: VerifyRequest,
) -> Result<Response<Full<Bytes>>, ApiError> {
    match jwt.verify(&request.token).await {
        Ok(_) => Ok(json_response(StatusCode::OK, &json!({}))),
        // The serializer's validation error, as the reference answers it.
        Err(LifecycleError::Token(TokenError::Blacklisted)) => Err(ApiError::VerifyBlacklisted),
        Err(error) => Err(error.into()),
    }
}
