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
//! use tower_simplejwt::http::BlacklistLayer;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = BlacklistLayer::new(jwt);
//! # let _ = tower::ServiceBuilder::new().layer(layer);
//! ```

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};

use super::request::{EndpointRequest, FieldErrors};
use super::{Blacklist, EndpointLayer, EndpointService};
use crate::http::{cookies, json_response, ApiError};
use crate::Jwt;

/// Answers the blacklist endpoint; see the [module documentation](self).
pub type BlacklistLayer = EndpointLayer<Blacklist>;
/// The service of [`BlacklistLayer`].
pub type BlacklistService<S> = EndpointService<Blacklist, S>;

/// The blacklist endpoint's body: `{"refresh"}` (in cookie mode, the refresh cookie when the body has none).
#[derive(Debug)]
pub(crate) struct BlacklistRequest {
    pub(crate) refresh: String,
}

impl EndpointRequest for BlacklistRequest {
    fn from_fields(fields: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let refresh = errors.text(fields, "refresh");
        errors.finish(refresh.map(|refresh| BlacklistRequest { refresh }))
    }
}

/// Logs the token out ([`Jwt::blacklist`]); `200 {}` (and the cookies cleared in cookie mode).
pub(super) async fn answer(
    jwt: &Jwt,
    request: BlacklistRequest,
) -> Result<Response<Full<Bytes>>, ApiError> {
    jwt.blacklist(&request.refresh).await?;
    let mut response = json_response(StatusCode::OK, &json!({}));
    let config = jwt.config();
    if config.cookies.enabled {
        cookies::clear_token_cookies(response.headers_mut(), config);
    }
    Ok(response)
}
