//! The contract's answers as OpenAPI responses: each example body is the
//! one [`ApiError::body`] renders, so the document cannot drift from what
//! the server sends.

use serde_json::Value;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};

use super::schemas::{name, reference};
use crate::http::{ApiError, WWW_AUTHENTICATE_BEARER};
use crate::token::TokenError;

/// One status of an operation: its description, schema, examples and headers.
pub(super) struct Answer {
    response: ResponseBuilder,
    content: ContentBuilder,
    examples: Vec<(String, ExampleBuilder)>,
}

impl Answer {
    /// A JSON answer whose body is the component schema `schema`.
    pub(super) fn json(description: &str, schema: &str) -> Self {
        Answer {
            response: ResponseBuilder::new().description(description),
            content: ContentBuilder::new().schema(Some(reference(schema))),
            examples: Vec::new(),
        }
    }

    /// The answer of the errors `errors`, each an example named by its
    /// summary; the schema fits the status.
    pub(super) fn errors<S: AsRef<str>>(description: &str, errors: &[(S, ApiError)]) -> Self {
        let status = errors.first().map(|(_, error)| error.status().as_u16());
        let schema = match status {
            Some(400) => name::BAD_REQUEST,
            _ => name::DETAIL,
        };
        let mut answer = Answer::json(description, schema);
        for (summary, error) in errors {
            answer = answer.example(summary.as_ref(), error.body());
        }
        match status {
            Some(401) => answer.header("WWW-Authenticate", www_authenticate()),
            Some(503) => answer.header("Retry-After", retry_after()),
            _ => answer,
        }
    }

    /// Adds an example body.
    pub(super) fn example(mut self, summary: &str, body: Value) -> Self {
        let example = ExampleBuilder::new().summary(summary).value(Some(body));
        self.examples.push((summary.to_owned(), example));
        self
    }

    /// Adds a response header.
    pub(super) fn header(mut self, name: &str, header: Header) -> Self {
        self.response = self.response.header(name, header);
        self
    }

    /// The response object.
    pub(super) fn build(self) -> RefOr<utoipa::openapi::Response> {
        let content = self.content.examples_from_iter(self.examples);
        RefOr::T(self.response.content("application/json", content).build())
    }
}

/// A header whose value is a string like `example`.
pub(super) fn string_header(description: &str, example: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .example(Some(Value::from(example)))
        .build()
}

/// `WWW-Authenticate`, on every 401.
pub(super) fn www_authenticate() -> Header {
    string_header(
        "The authentication scheme, on every 401.",
        WWW_AUTHENTICATE_BEARER,
    )
}

/// `Retry-After`, on every 503.
pub(super) fn retry_after() -> Header {
    string_header("Seconds to wait before trying again.", "1")
}

/// `Cache-Control: no-store`, on every answer of a token endpoint.
pub(super) fn no_store() -> Header {
    string_header(
        "Every answer of a token endpoint forbids caches to store it (RFC 6749 §5.1).",
        "no-store",
    )
}

/// `Pragma: no-cache`, beside `Cache-Control` for HTTP/1.0 caches.
pub(super) fn pragma() -> Header {
    string_header("For HTTP/1.0 caches.", "no-cache")
}

/// The seven token errors, each with its message as the example's summary.
pub(super) fn token_errors(wrap: fn(TokenError) -> ApiError) -> Vec<(&'static str, ApiError)> {
    [
        ("Token is invalid", TokenError::Invalid),
        ("Token is expired", TokenError::Expired),
        ("Token has no id", TokenError::NoId),
        ("Token has no type", TokenError::NoType),
        ("Token has wrong type", TokenError::WrongType),
        ("Token has no 'exp' claim", TokenError::NoExp),
        ("Token is blacklisted", TokenError::Blacklisted),
    ]
    .into_iter()
    .map(|(summary, error)| (summary, wrap(error)))
    .collect()
}

/// The 400s every token endpoint shares besides its own fields' errors.
pub(super) fn body_errors() -> Vec<(&'static str, ApiError)> {
    vec![
        (
            "body not JSON",
            ApiError::JsonParse("expected value at line 1 column 1".to_owned()),
        ),
        ("JSON null", ApiError::NoData),
        ("JSON that is not an object", ApiError::NotAnObject("list")),
    ]
}

/// The 400s of a field: missing, blank, null.
pub(super) fn field_errors(field: &'static str) -> Vec<(String, ApiError)> {
    [
        ("required", "This field is required."),
        ("blank", "This field may not be blank."),
        ("null", "This field may not be null."),
    ]
    .into_iter()
    .map(|(what, message)| {
        (
            format!("{field} {what}"),
            ApiError::Fields(vec![(field, message)]),
        )
    })
    .collect()
}

/// The 503s: the token store or the user database cannot answer.
pub(super) fn unavailable() -> Answer {
    Answer::errors(
        "A store cannot answer now; try again after `Retry-After` seconds.",
        &[
            ("token store unavailable", ApiError::StoreUnavailable),
            ("user database unavailable", ApiError::ServiceUnavailable),
        ],
    )
}

/// The 500: a bug or a misconfiguration, never a 401.
pub(super) fn server_error() -> Answer {
    Answer::errors(
        "A failure of the server itself, logged with its cause.",
        &[("server error", ApiError::Internal)],
    )
}
