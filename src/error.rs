//! Errors and their rendering as the wire contract's responses.
//!
//! [`TokenError`] is why a token was refused; [`ApiError`] is everything an
//! endpoint or [`AuthLayer`](crate::auth::AuthLayer) can answer other than
//! success, one variant per body of the contract. [`ApiError::into_response`]
//! renders the exact status, JSON body and headers.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::error::{ApiError, TokenError};
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

pub use crate::token::TokenError;

/// Everything a token endpoint or the authentication layer answers besides success.
///
/// Each variant renders one body of the contract; see
/// [`ApiError::into_response`].
///
/// # Examples
///
/// ```
/// use tower_simplejwt::error::ApiError;
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

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        match error {
            crate::store::StoreError::Overloaded(_) => {
                tracing::warn!(%error, "request refused");
                ApiError::ServiceUnavailable
            }
            error => {
                tracing::error!(%error, "token store failed");
                ApiError::StoreUnavailable
            }
        }
    }
}

impl From<crate::credentials::UserStoreError> for ApiError {
    fn from(error: crate::credentials::UserStoreError) -> Self {
        use crate::credentials::UserStoreError;
        let cause = std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_default();
        match error {
            UserStoreError::Overloaded(_) => {
                tracing::warn!(%error, %cause, "login refused");
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

impl From<crate::token::SignError> for ApiError {
    fn from(error: crate::token::SignError) -> Self {
        tracing::error!(%error, "token signing failed");
        ApiError::Internal
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
    /// use tower_simplejwt::error::ApiError;
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
    /// use tower_simplejwt::error::{ApiError, TokenError};
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
    /// use tower_simplejwt::error::ApiError;
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

impl ApiError {
    /// The gRPC status code of this error: 16 (UNAUTHENTICATED) for every
    /// 401, 14 (UNAVAILABLE) for 503, 3 (INVALID_ARGUMENT) for the other 4xx,
    /// 13 (INTERNAL) for 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::error::{ApiError, TokenError};
    ///
    /// assert_eq!(ApiError::AccessTokenRefused(TokenError::Expired).grpc_code(), 16);
    /// assert_eq!(ApiError::StoreUnavailable.grpc_code(), 14);
    /// ```
    pub fn grpc_code(&self) -> u16 {
        match self.status() {
            StatusCode::UNAUTHORIZED => 16,
            StatusCode::SERVICE_UNAVAILABLE => 14,
            StatusCode::INTERNAL_SERVER_ERROR => 13,
            _ => 3,
        }
    }

    /// The contract's message for this error, as `grpc-message` carries it:
    /// for a refused access token, the reason ("Token is expired").
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::error::{ApiError, TokenError};
    ///
    /// assert_eq!(ApiError::AccessTokenRefused(TokenError::Expired).grpc_message(), "Token is expired");
    /// assert_eq!(ApiError::CredentialsNotProvided.grpc_message(), "Authentication credentials were not provided.");
    /// ```
    pub fn grpc_message(&self) -> String {
        match self {
            ApiError::AccessTokenRefused(error) | ApiError::Token(error) => error.to_string(),
            other => other.to_string(),
        }
    }

    /// Renders the error as a gRPC trailers-only response: HTTP 200,
    /// `content-type: application/grpc`, `grpc-status` and a percent-encoded
    /// `grpc-message`, no body.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::error::ApiError;
    ///
    /// let response = ApiError::CredentialsNotProvided.into_grpc_response();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["grpc-status"], "16");
    /// assert_eq!(response.headers()["grpc-message"], "Authentication credentials were not provided.");
    /// ```
    pub fn into_grpc_response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::new()));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert("grpc-status", HeaderValue::from(self.grpc_code()));
        if let Ok(message) = HeaderValue::from_str(&grpc_percent_encode(&self.grpc_message())) {
            headers.insert("grpc-message", message);
        }
        response
    }
}

/// Renders `error` for the caller: a gRPC trailers-only response for gRPC calls, JSON otherwise.
pub(crate) fn render(error: &ApiError, grpc: bool) -> Response<Full<Bytes>> {
    if grpc {
        error.into_grpc_response()
    } else {
        error.into_response()
    }
}

/// Percent-encodes a `grpc-message`: every byte outside printable ASCII, and `%`.
fn grpc_percent_encode(message: &str) -> String {
    let mut encoded = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Whether a request is a gRPC call (`content-type: application/grpc…`).
pub(crate) fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"))
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
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(error: ApiError) -> Value {
        let bytes = error
            .into_response()
            .into_body()
            .collect()
            .await
            .expect("full body")
            .to_bytes();
        serde_json::from_slice(&bytes).expect("json body")
    }

    #[tokio::test]
    async fn token_endpoint_shape() {
        for (error, message) in [
            (TokenError::Invalid, "Token is invalid"),
            (TokenError::Expired, "Token is expired"),
            (TokenError::NoId, "Token has no id"),
            (TokenError::NoType, "Token has no type"),
            (TokenError::WrongType, "Token has wrong type"),
            (TokenError::NoExp, "Token has no 'exp' claim"),
            (TokenError::Blacklisted, "Token is blacklisted"),
        ] {
            assert_eq!(
                body_of(ApiError::Token(error)).await,
                json!({"detail": message, "code": "token_not_valid"})
            );
        }
    }

    #[tokio::test]
    async fn wrapped_shape_for_protected_resources() {
        assert_eq!(
            body_of(ApiError::AccessTokenRefused(TokenError::Expired)).await,
            json!({"detail":"Given token not valid for any token type","code":"token_not_valid",
                   "messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is expired"}]})
        );
    }

    #[test]
    fn every_401_carries_www_authenticate_and_others_do_not() {
        let all = [
            ApiError::Token(TokenError::Invalid),
            ApiError::AccessTokenRefused(TokenError::Invalid),
            ApiError::VerifyBlacklisted,
            ApiError::NoActiveAccount,
            ApiError::NoActiveAccountForToken,
            ApiError::CredentialsNotProvided,
            ApiError::BadAuthorizationHeader,
            ApiError::UserInactive,
            ApiError::UserNotFound,
            ApiError::NoUserIdentification,
            ApiError::Fields(vec![("refresh", "This field is required.")]),
            ApiError::JsonParse("x".into()),
            ApiError::UnsupportedMediaType("text/plain".into()),
            ApiError::MethodNotAllowed(Method::GET),
            ApiError::PayloadTooLarge,
            ApiError::StoreUnavailable,
            ApiError::ServiceUnavailable,
        ];
        for error in all {
            let response = error.into_response();
            let has_header = response.headers().get(WWW_AUTHENTICATE).is_some();
            assert_eq!(has_header, response.status() == 401, "{error:?}");
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        }
    }

    #[tokio::test]
    async fn other_bodies() {
        assert_eq!(
            body_of(ApiError::MethodNotAllowed(Method::GET)).await,
            json!({"detail": "Method \"GET\" not allowed."})
        );
        assert_eq!(
            body_of(ApiError::UnsupportedMediaType("text/plain".into())).await,
            json!({"detail": "Unsupported media type \"text/plain\" in request."})
        );
        assert_eq!(
            body_of(ApiError::VerifyBlacklisted).await,
            json!({"non_field_errors": ["Token is blacklisted"]})
        );
        assert_eq!(
            body_of(ApiError::StoreUnavailable).await,
            json!({"detail":"Token store unavailable, try again later.","code":"store_unavailable"})
        );
        assert_eq!(
            body_of(ApiError::ServiceUnavailable).await,
            json!({"detail":"Service temporarily unavailable, try again later.","code":"service_unavailable"})
        );
        assert_eq!(
            ApiError::ServiceUnavailable.into_response().headers()[RETRY_AFTER],
            "1"
        );
        assert_eq!(
            body_of(ApiError::NoActiveAccount).await,
            json!({"detail":"No active account found with the given credentials"})
        );
        assert_eq!(
            body_of(ApiError::BadAuthorizationHeader).await,
            json!({"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"})
        );
        assert_eq!(
            body_of(ApiError::Fields(vec![
                ("username", "This field is required."),
                ("password", "This field may not be blank.")
            ]))
            .await,
            json!({"username":["This field is required."],"password":["This field may not be blank."]})
        );
    }
}
