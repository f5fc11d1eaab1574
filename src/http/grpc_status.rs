//! The gRPC rendering of [`ApiError`]: a trailers-only response with
//! `grpc-status` and `grpc-message`, for the calls [`AuthLayer`](super::AuthLayer)
//! refuses on a tonic (or any gRPC) server.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::http::ApiError;
//!
//! let response = ApiError::CredentialsNotProvided.into_grpc_response();
//! assert_eq!(response.headers()["grpc-status"], "16");
//! ```

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body_util::Full;

use super::ApiError;

impl ApiError {
    /// The gRPC status code of this error: 16 (UNAUTHENTICATED) for every
    /// 401, 14 (UNAVAILABLE) for 503, 3 (INVALID_ARGUMENT) for the other 4xx,
    /// 13 (INTERNAL) for 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::http::ApiError;
    /// use tower_simplejwt::token::TokenError;
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
    /// use tower_simplejwt::http::ApiError;
    /// use tower_simplejwt::token::TokenError;
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
    /// use tower_simplejwt::http::ApiError;
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
