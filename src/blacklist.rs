//! The blacklist endpoint (`POST /api/token/blacklist/`): log a refresh token out.
//!
//! A valid refresh token gets `200 {}` and is refused from then on by the
//! refresh endpoint (401 "Token is blacklisted") and the verify endpoint
//! (400). The same token again gets 401 "Token is blacklisted"; an access
//! token gets 401 "Token has wrong type".
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::blacklist::BlacklistLayer;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = BlacklistLayer::new(jwt);
//! # let _ = tower::ServiceBuilder::new().layer(layer);
//! ```

use serde_json::{json, Value};

use crate::endpoint::{Blacklist, EndpointLayer, EndpointService};
use crate::error::{ApiError, TokenError};
use crate::refresh::{recorded, subject_of};
use crate::store::BlacklistOutcome;
use crate::token::{Expected, TokenKind};
use crate::Jwt;

/// Answers the blacklist endpoint; see the [module documentation](self).
pub type BlacklistLayer = EndpointLayer<Blacklist>;
/// The service of [`BlacklistLayer`].
pub type BlacklistService<S> = EndpointService<Blacklist, S>;

pub(crate) async fn blacklist(jwt: &Jwt, token: &str) -> Result<Value, ApiError> {
    let claims = jwt
        .codec()
        .verify(token, Expected::Kind(TokenKind::Refresh))?;
    let record = recorded(jwt, &claims.jti, subject_of(&claims), claims.exp);
    match jwt.store().blacklist(record).await? {
        BlacklistOutcome::Blacklisted => {
            tracing::info!(jti = %claims.jti, "refresh token logged out");
            Ok(json!({}))
        }
        BlacklistOutcome::AlreadyBlacklisted => Err(TokenError::Blacklisted.into()),
    }
}
