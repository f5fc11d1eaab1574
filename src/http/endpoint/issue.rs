//! The obtain endpoint (`POST /api/token/`): credentials in, a token pair out.
//!
//! `{"username", "password"}` → `200 {"refresh", "access"}` for an active
//! user (in cookie mode the tokens are set as `HttpOnly` cookies instead,
//! and the body is `{}`, or `{"access"}` with `CookieSettings::access_in_body`:
//! see [`CookieSettings`](crate::config::CookieSettings)); wrong credentials, an unknown or an inactive user all get the same
//! `401 {"detail": "No active account found with the given credentials"}`,
//! in the same time. The refresh token is recorded in the token store as the
//! first of a new family ([`Jwt::login`]). Every answer carries
//! `Cache-Control: no-store`.
//! Password checks run within a [`LoginLimit`](crate::credentials::LoginLimit):
//! a login that finds it saturated gets `503 service_unavailable` with
//! `Retry-After: 1`, never a 401.
//!
//! # Examples
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::http::IssueLayer;
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::new("an example secret of 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = IssueLayer::new(jwt);
//! # let _ = ServiceBuilder::new().layer(layer);
//! ```

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};

use super::request::{EndpointRequest, FieldErrors};
use super::{EndpointLayer, EndpointService, Issue};
use crate::http::{cookies, json_response, ApiError};
use crate::Jwt;

/// Answers the obtain endpoint; see the [module documentation](self).
pub type IssueLayer = EndpointLayer<Issue>;
/// The service of [`IssueLayer`].
pub type IssueService<S> = EndpointService<Issue, S>;

/// The obtain endpoint's body: `{"username", "password"}`.
#[derive(Debug)]
pub(crate) struct IssueRequest {
    pub(crate) username: String,
    pub(crate) password: String,
}

impl EndpointRequest for IssueRequest {
    fn from_fields(fields: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let username = errors.text(fields, "username");
        let password = errors.text(fields, "password");
        let request = username
            .zip(password)
            .map(|(username, password)| IssueRequest { username, password });
        errors.finish(request)
    }
}

/// Logs in; `200 {"refresh", "access"}`, or in cookie mode both cookies
/// and a body without the refresh token.
pub(super) async fn answer(
    jwt: &Jwt,
    request: IssueRequest,
) -> Result<Response<Full<Bytes>>, ApiError> {
    let pair = jwt.login(&request.username, &request.password).await?;
    let config = jwt.config();
    let body = match config.cookies.enabled {
        true => cookies::body(config, &pair.access.token),
        false => json!({"refresh": pair.refresh.token, "access": pair.access.token}),
    };
    let mut response = json_response(StatusCode::OK, &body);
    if config.cookies.enabled {
        cookies::set_token_cookies(
            response.headers_mut(),
            config,
            Some(&pair.access.token),
            Some(&pair.refresh.token),
        );
    }
    Ok(response)
}
