//! The refresh endpoint (`POST /api/token/refresh/`): a refresh token in, a new access token out.
//!
//! With rotation on, the answer also carries a new refresh token and the
//! presented one is rotated in the token store ([`Jwt::refresh`]; see
//! [`store`](crate::store) for the family rules: the grace window, reuse
//! detection, unrecorded tokens). Without rotation, the presented token must simply not be
//! blacklisted.
//!
//! In cookie mode the new tokens are set as `HttpOnly` cookies and the body
//! is `{}`, or `{"access"}` with `CookieSettings::access_in_body`; the
//! refresh token never travels in it (see
//! [`CookieSettings`](crate::config::CookieSettings)).
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::http::RefreshLayer;
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = RefreshLayer::new(jwt);
//! # let _ = tower::ServiceBuilder::new().layer(layer);
//! ```

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};

use super::request::{EndpointRequest, FieldErrors};
use super::{EndpointLayer, EndpointService, Refresh};
use crate::http::{cookies, json_response, ApiError};
use crate::Jwt;

/// Answers the refresh endpoint; see the [module documentation](self).
pub type RefreshLayer = EndpointLayer<Refresh>;
/// The service of [`RefreshLayer`].
pub type RefreshService<S> = EndpointService<Refresh, S>;

/// The refresh endpoint's body: `{"refresh"}` (in cookie mode, the refresh cookie when the body has none).
#[derive(Debug)]
pub(crate) struct RefreshRequest {
    pub(crate) refresh: String,
}

impl EndpointRequest for RefreshRequest {
    fn from_fields(fields: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let refresh = errors.text(fields, "refresh");
        errors.finish(refresh.map(|refresh| RefreshRequest { refresh }))
    }
}

/// Refreshes; `200 {"access"[, "refresh"]}`, or in cookie mode the cookies
/// and a body without the refresh token.
pub(super) async fn answer(
    jwt: &Jwt,
    request: RefreshRequest,
) -> Result<Response<Full<Bytes>>, ApiError> {
    let refreshed = jwt.refresh(&request.refresh).await?;
    let access = &refreshed.access.token;
    let refresh = refreshed.refresh.as_ref().map(|successor| &successor.token);
    let config = jwt.config();
    let body = match (config.cookies.enabled, refresh) {
        (true, _) => cookies::body(config, access),
        (false, Some(refresh)) => json!({"access": access, "refresh": refresh}),
        (false, None) => json!({"access": access}),
    };
    let mut response = json_response(StatusCode::OK, &body);
    if config.cookies.enabled {
        cookies::set_token_cookies(
            response.headers_mut(),
            config,
            Some(access),
            refresh.map(String::as_str),
        );
    }
    Ok(response)
}
