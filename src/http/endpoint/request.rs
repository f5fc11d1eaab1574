//! Reading an endpoint's request body into its typed request, with DRF's rules.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::Request;
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};

use crate::http::ApiError;

/// The media types the endpoints parse.
enum MediaType {
    Json,
    Form,
}

/// A value for a field the body leaves out (the refresh token from its cookie).
#[derive(Debug)]
pub(crate) struct Fallback {
    pub(crate) field: &'static str,
    pub(crate) value: String,
}

/// An endpoint's request, read from the body's fields (DRF's `CharField`s).
pub(crate) trait EndpointRequest: Sized {
    /// The request, or DRF's field errors (every field's, in field order).
    fn from_fields(fields: &Map<String, Value>) -> Result<Self, ApiError>;
}

/// Reads the body (at most `limit` bytes) into `T`, the missing field of
/// `fallback` taken from it.
pub(crate) async fn read_request<T, B>(
    request: Request<B>,
    limit: usize,
    fallback: Option<Fallback>,
) -> Result<T, ApiError>
where
    T: EndpointRequest,
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared_length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let media_type = request
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let bytes = read_body(request.into_body(), limit).await?;
    let mut fields = if bytes.is_empty() {
        // DRF parses an empty body as no data, whatever its content type.
        Map::new()
    } else {
        match media_type_of(media_type.as_deref())? {
            MediaType::Json => json_object(&bytes)?,
            MediaType::Form => form_fields(&bytes),
        }
    };
    if let Some(Fallback { field, value }) = fallback {
        fields.entry(field).or_insert(Value::String(value));
    }
    T::from_fields(&fields)
}

/// DRF's field errors, gathered field by field.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(Vec<(&'static str, &'static str)>);

impl FieldErrors {
    /// The trimmed text of the `CharField` `name`: required, not null, a
    /// string (numbers are taken in their text form), not blank. `None`
    /// (and the error noted) otherwise.
    pub(crate) fn text(
        &mut self,
        fields: &Map<String, Value>,
        name: &'static str,
    ) -> Option<String> {
        let text = match fields.get(name) {
            None => Err("This field is required."),
            Some(Value::Null) => Err("This field may not be null."),
            Some(Value::String(text)) => Ok(text.trim().to_owned()),
            Some(Value::Number(number)) => Ok(python_number_text(number)),
            Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => Err("Not a valid string."),
        };
        match text {
            Ok(text) if text.is_empty() => self.0.push((name, "This field may not be blank.")),
            Ok(text) => return Some(text),
            Err(message) => self.0.push((name, message)),
        }
        None
    }

    /// The request built from valid fields, or every error noted.
    pub(crate) fn finish<T>(self, request: Option<T>) -> Result<T, ApiError> {
        match request {
            Some(request) if self.0.is_empty() => Ok(request),
            // Every field missing from `request` noted its error.
            _ => Err(ApiError::Fields(self.0)),
        }
    }
}

async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, ApiError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::PayloadTooLarge)
        }
        Err(_) => Err(ApiError::BodyUnreadable),
    }
}

/// Picks the parser by the media type's essence, case-insensitively; a
/// missing content type is `text/plain`, as Django sees it.
fn media_type_of(content_type: Option<&str>) -> Result<MediaType, ApiError> {
    let content_type = content_type.unwrap_or("text/plain");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(MediaType::Json),
        "application/x-www-form-urlencoded" => Ok(MediaType::Form),
        _ => Err(ApiError::UnsupportedMediaType(
            content_type.trim().to_owned(),
        )),
    }
}

fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|error| ApiError::JsonParse(error.to_string()))?;
    match value {
        Value::Object(fields) => Ok(fields),
        Value::Null => Err(ApiError::NoData),
        Value::Array(_) => Err(ApiError::NotAnObject("list")),
        Value::String(_) => Err(ApiError::NotAnObject("str")),
        Value::Bool(_) => Err(ApiError::NotAnObject("bool")),
        Value::Number(number) if number.is_f64() => Err(ApiError::NotAnObject("float")),
        Value::Number(_) => Err(ApiError::NotAnObject("int")),
    }
}

/// URL-encoded form fields; a repeated name keeps its last value, as Django's `QueryDict` does.
fn form_fields(bytes: &[u8]) -> Map<String, Value> {
    form_urlencoded::parse(bytes)
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect()
}

/// A JSON number as Python's `str()` writes it: integers as digits, floats with a decimal point.
fn python_number_text(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(float)
            if number.is_f64()
                && float.is_finite()
                && float.fract() == 0.0
                && float.abs() < 1e16 =>
        {
            format!("{float:.1}")
        }
        _ => number.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::endpoint::issue::IssueRequest;
    use crate::http::endpoint::refresh::RefreshRequest;
    use http_body_util::Full;

    async fn read(content_type: Option<&str>, body: &str) -> Result<Vec<String>, ApiError> {
        let mut builder = Request::post("/");
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        let request = builder
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        read_request::<IssueRequest, _>(request, 64, None)
            .await
            .map(|request| vec![request.username, request.password])
    }

    const JSON: Option<&str> = Some("application/json");

    #[tokio::test]
    async fn json_fields_are_trimmed() {
        assert_eq!(
            read(JSON, r#"{"username":" alice ","password":"pw\n"}"#)
                .await
                .unwrap(),
            ["alice", "pw"]
        );
        assert_eq!(
            read(
                Some("Application/JSON; charset=utf-8"),
                r#"{"username":"a","password":"b"}"#
            )
            .await
            .unwrap(),
            ["a", "b"]
        );
    }

    #[tokio::test]
    async fn drf_field_errors() {
        assert_eq!(
            read(JSON, "{}").await,
            Err(ApiError::Fields(vec![
                ("username", "This field is required."),
                ("password", "This field is required.")
            ]))
        );
        assert_eq!(
            read(JSON, r#"{"username":"  ","password":null}"#).await,
            Err(ApiError::Fields(vec![
                ("username", "This field may not be blank."),
                ("password", "This field may not be null.")
            ]))
        );
        assert_eq!(
            read(JSON, r#"{"username":true,"password":[1]}"#).await,
            Err(ApiError::Fields(vec![
                ("username", "Not a valid string."),
                ("password", "Not a valid string.")
            ]))
        );
        assert_eq!(
            read(JSON, r#"{"username":1,"password":1.0}"#)
                .await
                .unwrap(),
            ["1", "1.0"]
        );
        assert_eq!(
            read(JSON, r#"{"username":"a","password":"b","extra":1}"#)
                .await
                .unwrap(),
            ["a", "b"]
        );
    }

    #[tokio::test]
    async fn bodies_that_are_not_objects() {
        assert_eq!(read(JSON, "null").await, Err(ApiError::NoData));
        assert_eq!(read(JSON, "[1]").await, Err(ApiError::NotAnObject("list")));
        assert_eq!(read(JSON, "\"x\"").await, Err(ApiError::NotAnObject("str")));
        assert_eq!(read(JSON, "1").await, Err(ApiError::NotAnObject("int")));
        assert_eq!(read(JSON, "1.5").await, Err(ApiError::NotAnObject("float")));
        assert_eq!(read(JSON, "true").await, Err(ApiError::NotAnObject("bool")));
        assert!(matches!(
            read(JSON, "{bad").await,
            Err(ApiError::JsonParse(_))
        ));
        assert!(matches!(
            read(JSON, "NaN").await,
            Err(ApiError::JsonParse(_))
        ));
    }

    #[tokio::test]
    async fn media_types() {
        assert_eq!(
            read(
                Some("application/x-www-form-urlencoded"),
                "username=a+b&password=%20c"
            )
            .await
            .unwrap(),
            ["a b", "c"]
        );
        assert_eq!(
            read(Some("text/plain"), "x").await,
            Err(ApiError::UnsupportedMediaType("text/plain".into()))
        );
        assert_eq!(
            read(None, "x").await,
            Err(ApiError::UnsupportedMediaType("text/plain".into()))
        );
        assert_eq!(
            read(Some("application/vnd.api+json"), "{}").await,
            Err(ApiError::UnsupportedMediaType(
                "application/vnd.api+json".into()
            ))
        );
        // An empty body is no data, whatever the content type.
        assert!(matches!(
            read(Some("text/plain"), "").await,
            Err(ApiError::Fields(_))
        ));
    }

    #[tokio::test]
    async fn fallback_fills_a_missing_field_only() {
        let read = |body: &'static str| {
            let request = Request::post("/")
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let fallback = Fallback {
                field: "refresh",
                value: "from-cookie".into(),
            };
            async move {
                read_request::<RefreshRequest, _>(request, 64, Some(fallback))
                    .await
                    .map(|request| vec![request.refresh])
            }
        };
        assert_eq!(read("").await.unwrap(), ["from-cookie"]);
        assert_eq!(read("{}").await.unwrap(), ["from-cookie"]);
        assert_eq!(
            read(r#"{"refresh":"from-body"}"#).await.unwrap(),
            ["from-body"]
        );
        assert_eq!(
            read(r#"{"refresh":""}"#).await,
            Err(ApiError::Fields(vec![(
                "refresh",
                "This field may not be blank."
            )]))
        );
    }

    #[tokio::test]
    async fn size_limit() {
        let big = format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(100));
        assert_eq!(read(JSON, &big).await, Err(ApiError::PayloadTooLarge));
    }
}
