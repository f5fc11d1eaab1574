//! [`ApiError`]: the HTTP contract's answers other than success, and their rendering.
//!
//! Every endpoint and [`AuthLayer`](super::AuthLayer) answers failures
//! through this one type: a lifecycle error converts into it
//! (`From<LifecycleError>`), one variant per body of the contract, and
//! [`ApiError::into_response`] renders the exact status, JSON body and
//! headers. The gRPC rendering of the same errors is in `grpc_status`.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::http::ApiError;
//! use tower_simplejwt::token::TokenError;
//!
//! let response = ApiError::Token(TokenError::Expired).into_response();
//! assert_eq!(response.status(), 401);
//! assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"api\"");
//! ```

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};

use crate::credentials::UserStoreError;
use crate::lifecycle::LifecycleError;
use crate::store::StoreError;
use crate::token::TokenError;

/// Everything a token endpoint or the authentication layer answers besides success.
///
/// Each variant renders one body of the contract; see
/// [`ApiError::into_response`].
///
/// # Examples
///
/// ```
/// use tower_simplejwt::http::ApiError;
///
/// let response = ApiError::CredentialsNotProvided.into_response();
/// assert_eq!(response.status(), 401);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A token endpoint refused the token: `401 {"detail": MESSAGE, "code": "token_not_valid"}`.
    #[error("{0}")]
    Token(TokenError),
    /// A protected resource refused the access token: the wrapped
    /// "Given token not valid for any token type" body.
    #[error("Given token not valid for any token type: {0}")]
    AccessTokenRefused(TokenError),
    /// The verify endpoint was given a blacklisted refresh token: `400 {"non_field_errors": [...]}`.
    #[error("Token is blacklisted")]
    VerifyBlacklisted,
    /// Wrong password, unknown or inactive user on the obtain endpoint.
    #[error("No active account found with the given credentials")]
    NoActiveAccount,
    /// The refresh token's user is inactive, unknown or unidentifiable.
    #[error("No active account found for the given token.")]
    NoActiveAccountForToken,
    /// No `Authorization` header, or another scheme.
    #[error("Authentication credentials were not provided.")]
    CredentialsNotProvided,
    /// `Authorization: Bearer` alone or with more than one value.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// The access token's user is inactive.
    #[error("User is inactive")]
    UserInactive,
    /// The access token's user does not exist.
    #[error("User not found")]
    UserNotFound,
    /// The access token carries no user id claim.
    #[error("Token contained no recognizable user identification")]
    NoUserIdentification,
    /// Request fields failed validation: `400 {"field": ["message"], ...}`.
    #[error("invalid request fields")]
    Fields(Vec<(&'static str, &'static str)>),
    /// The body is not JSON: `400 {"detail": "JSON parse error - ..."}`.
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    /// A JSON body that is `null`: `400 {"non_field_errors": ["No data provided"]}`.
    #[error("No data provided")]
    NoData,
    /// A body that is JSON but not an object: `400 {"non_field_errors": ["Invalid data. Expected a dictionary, but got T."]}`.
    #[error("Invalid data. Expected a dictionary, but got {0}.")]
    NotAnObject(&'static str),
    /// A content type the endpoint does not parse.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// A method the endpoint does not allow.
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(Method),
    /// The request body is over the configured limit.
    #[error("Request body too large.")]
    PayloadTooLarge,
    /// The request body could not be read.
    #[error("Request body could not be read.")]
    BodyUnreadable,
    /// The token store cannot answer: `503` with `Retry-After: 1`.
    #[error("Token store unavailable, try again later.")]
    StoreUnavailable,
    /// The user database cannot answer, or every password check is busy
    /// (the login limit is saturated): `503` with `Retry-After: 1`.
    #[error("Service temporarily unavailable, try again later.")]
    ServiceUnavailable,
    /// A failure of the server itself (for example a signing key that cannot sign).
    #[error("A server error occurred.")]
    Internal,
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        ApiError::Token(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            error @ StoreError::Overloaded(_) => {
                tracing::warn!(%error, "token store busy");
                ApiError::StoreUnavailable
            }
            error => {
                tracing::error!(%error, "token store failed");
                ApiError::StoreUnavailable
            }
        }
    }
}

impl From<LifecycleError> for ApiError {
    /// The contract's answer to a lifecycle error. Failures are logged here
    /// as what they are (a busy service as a warning, a store that cannot
    /// answer or a bug as an error); refusals are not logged.
    fn from(error: LifecycleError) -> Self {
        match error {
            LifecycleError::Token(error) => ApiError::Token(error),
            LifecycleError::InvalidCredentials => ApiError::NoActiveAccount,
            LifecycleError::InactiveSubject => ApiError::NoActiveAccountForToken,
            LifecycleError::Store(error) => ApiError::from(error),
            LifecycleError::Users(error) => ApiError::from(error),
            error @ (LifecycleError::ForeignSubject { .. }
            | LifecycleError::EmptySubjectId
            | LifecycleError::Signing(_)
            | LifecycleError::Internal(_)) => {
                tracing::error!(%error, "server error");
                ApiError::Internal
            }
        }
    }
}

impl From<UserStoreError> for ApiError {
    /// A user store that cannot answer or is busy is a 503
    /// `service_unavailable`; corrupt data or a password hash that cannot be
    /// computed is a server error (500). Each is logged as what it is.
    fn from(error: UserStoreError) -> Self {
        let cause = std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_default();
        match error {
            UserStoreError::Overloaded(_) => {
                tracing::warn!(%error, %cause, "request refused: every password check is busy");
                ApiError::ServiceUnavailable
            }
            UserStoreError::Unavailable(_) => {
                tracing::error!(%error, %cause, "user store failed");
                ApiError::ServiceUnavailable
            }
            _ => {
                tracing::error!(%error, %cause, "server error in the user store or password check");
                ApiError::Internal
            }
        }
    }
}

/// The `WWW-Authenticate` value carried by every 401.
pub const WWW_AUTHENTICATE_BEARER: &str = "Bearer realm=\"api\"";

/// Methods the token endpoints accept, as DRF lists them in `Allow`.
const TOKEN_ENDPOINT_ALLOW: &str = "POST, OPTIONS";

impl ApiError {
    /// The HTTP status of this error.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::http::ApiError;
    ///
    /// assert_eq!(ApiError::VerifyBlacklisted.status(), 400);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Token(_)
            | ApiError::AccessTokenRefused(_)
            | ApiError::NoActiveAccount
            | ApiError::NoActiveAccountForToken
            | ApiError::CredentialsNotProvided
            | ApiError::BadAuthorizationHeader
            | ApiError::UserInactive
            | ApiError::UserNotFound
            | ApiError::NoUserIdentification => StatusCode::UNAUTHORIZED,
            ApiError::VerifyBlacklisted
            | ApiError::Fields(_)
            | ApiError::JsonParse(_)
            | ApiError::NotAnObject(_)
            | ApiError::NoData
            | ApiError::BodyUnreadable => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::StoreUnavailable | ApiError::ServiceUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body of this error, as the contract spells it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::http::ApiError;
    /// use tower_simplejwt::token::TokenError;
    ///
    /// let body = ApiError::Token(TokenError::Invalid).body();
    /// assert_eq!(body["detail"], "Token is invalid");
    /// assert_eq!(body["code"], "token_not_valid");
    /// ```
    pub fn body(&self) -> Value {
        match self {
            ApiError::Token(error) => {
                json!({"detail": error.to_string(), "code": "token_not_valid"})
            }
            ApiError::AccessTokenRefused(error) => json!({
                "detail": "Given token not valid for any token type",
                "code": "token_not_valid",
                "messages": [{
                    "token_class": "AccessToken",
                    "token_type": "access",
                    "message": error.to_string(),
                }],
            }),
            ApiError::VerifyBlacklisted => json!({"non_field_errors": ["Token is blacklisted"]}),
            ApiError::NotAnObject(_) | ApiError::NoData => {
                json!({"non_field_errors": [self.to_string()]})
            }
            ApiError::BadAuthorizationHeader => {
                json!({"detail": self.to_string(), "code": "bad_authorization_header"})
            }
            ApiError::UserInactive => json!({"detail": self.to_string(), "code": "user_inactive"}),
            ApiError::UserNotFound => json!({"detail": self.to_string(), "code": "user_not_found"}),
            ApiError::NoUserIdentification => {
                json!({"detail": self.to_string(), "code": "token_not_valid"})
            }
            ApiError::StoreUnavailable => {
                json!({"detail": self.to_string(), "code": "store_unavailable"})
            }
            ApiError::ServiceUnavailable => {
                json!({"detail": self.to_string(), "code": "service_unavailable"})
            }
            ApiError::Internal => json!({"detail": self.to_string(), "code": "server_error"}),
            ApiError::Fields(fields) => {
                let mut body = serde_json::Map::new();
                for (field, message) in fields {
                    body.insert((*field).to_owned(), json!([message]));
                }
                Value::Object(body)
            }
            _ => json!({"detail": self.to_string()}),
        }
    }

    /// Renders the error as a complete HTTP response: status, JSON body,
    /// `WWW-Authenticate` on every 401, `Allow` on 405, `Retry-After` on 503.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::http::ApiError;
    ///
    /// let response = ApiError::StoreUnavailable.into_response();
    /// assert_eq!(response.status(), 503);
    /// assert_eq!(response.headers()["retry-after"], "1");
    /// ```
    pub fn into_response(&self) -> Response<Full<Bytes>> {
        let mut response = json_response(self.status(), &self.body());
        let headers = response.headers_mut();
        match self.status() {
            StatusCode::UNAUTHORIZED => {
                headers.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(WWW_AUTHENTICATE_BEARER),
                );
            }
            StatusCode::METHOD_NOT_ALLOWED => {
                headers.insert(ALLOW, HeaderValue::from_static(TOKEN_ENDPOINT_ALLOW));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

/// A response with `body` serialized as compact JSON and the JSON content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    // Serializing a `Value` cannot fail: its map keys are always strings.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
