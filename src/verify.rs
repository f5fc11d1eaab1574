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
//! use tower_simplejwt::verify::VerifyLayer;
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = VerifyLayer::new(jwt);
//! # let _ = tower::ServiceBuilder::new().layer(layer);
//! ```

use serde_json::{json, Value};

use crate::endpoint::{EndpointLayer, EndpointService, Verify};
use crate::error::ApiError;
use crate::refresh::subject_of;
use crate::store::TokenState;
use crate::token::{Expected, TokenKind};
use crate::Jwt;

/// Answers the verify endpoint; see the [module documentation](self).
pub type VerifyLayer = EndpointLayer<Verify>;
/// The service of [`VerifyLayer`].
pub type VerifyService<S> = EndpointService<Verify, S>;

pub(crate) async fn verify(jwt: &Jwt, token: &str) -> Result<Value, ApiError> {
    let claims = jwt.codec().verify(token, Expected::Any)?;
    if jwt.config().blacklist_after_rotation && claims.kind() != Some(TokenKind::Access) {
        let state = jwt.store().state(subject_of(&claims), &claims.jti).await?;
        let unrecorded_refused = state == TokenState::Unknown
            && claims.kind() == Some(TokenKind::Refresh)
            && !jwt.config().accept_unrecorded_refresh_tokens;
        if state.is_refused_by_verify() || unrecorded_refused {
            return Err(ApiError::VerifyBlacklisted);
        }
    }
    Ok(json!({}))
}
