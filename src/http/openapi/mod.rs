//! An OpenAPI 3.1 document of the HTTP contract, and a docs page for it
//! (feature `openapi`).
//!
//! [`document`] describes what [`JwtLayer`](crate::JwtLayer) answers, at
//! the paths of the configuration: the four token endpoints (JSON and
//! URL-encoded form bodies; every 200, 400, 401, 413, 415, 500 and 503 body
//! of the contract as a named example, rendered by [`ApiError`](crate::ApiError) itself, so
//! the examples are what the server sends), the JWK Set, and the OpenID
//! discovery document when an issuer is set. `WWW-Authenticate` (every
//! 401), `Retry-After` (every 503) and `Cache-Control: no-store` (every
//! answer of a token endpoint) are documented headers. A method an endpoint
//! does not allow answers the component response `MethodNotAllowed` (405).
//!
//! The document is a [`utoipa::openapi::OpenApi`]: add the app's own routes
//! to it, or merge it into the app's document. [`protected`] adds the
//! bearer security requirement and `AuthLayer`'s refusals (the 401 bodies,
//! 503 and 500) to an operation of a route behind [`AuthLayer`](crate::AuthLayer).
//!
//! [`OpenApiLayer`] serves the document as JSON at `/api/schema/` and
//! Swagger UI at `/api/docs/`, from assets compiled into the crate
//! (Swagger UI 5.35.0, Apache-2.0): the page loads nothing from elsewhere,
//! and its `Content-Security-Policy` forbids it to.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::http::openapi;
//! use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
//!
//! let config = JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more");
//! let mut document = openapi::document(&config);
//! let me = openapi::protected(OperationBuilder::new().summary(Some("Who am I")));
//! document.paths.paths.insert("/api/me/".into(), PathItem::new(HttpMethod::Get, me));
//!
//! let json: serde_json::Value = serde_json::to_value(&document).unwrap();
//! assert_eq!(json["openapi"], "3.1.0");
//! assert!(json["paths"]["/api/token/"]["post"]["responses"]["401"].is_object());
//! assert_eq!(json["paths"]["/api/me/"]["get"]["security"][0]["bearer"], serde_json::json!([]));
//! ```

mod operations;
mod responses;
mod schemas;
mod service;

pub use crate::http::answer_future::ResponseFuture;
pub use service::{OpenApiLayer, OpenApiService, DOCS_PATH, SCHEMA_PATH};

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder};

use utoipa::openapi::tag::TagBuilder;

use crate::config::JwtConfig;

/// The name of the security scheme of the access token.
pub const BEARER: &str = "bearer";

/// The OpenAPI 3.1 document of the endpoints `config` configures; see the
/// [module documentation](self).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
///
/// let config = JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more");
/// let document = tower_simplejwt::http::openapi::document(&config);
/// assert!(document.paths.paths.contains_key("/api/token/refresh/"));
/// assert!(document.paths.paths.contains_key("/.well-known/jwks.json"));
/// ```
pub fn document(config: &JwtConfig) -> OpenApi {
    let mut paths = PathsBuilder::new();
    for (path, endpoint) in operations::token_endpoints(config) {
        paths = paths.path(path, endpoint.path_item());
    }
    paths = paths.path(config.paths.jwks.clone(), operations::jwks(config));
    if config.issuer.is_some() {
        paths = paths.path(
            config.paths.openid_configuration.clone(),
            operations::openid_configuration(),
        );
    }
    let components = schemas::add(ComponentsBuilder::new(), config)
        .response("MethodNotAllowed", operations::method_not_allowed().build())
        .security_scheme(BEARER, security_scheme(config));
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Token endpoints (djangorestframework-simplejwt's contract)")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "JWT access and refresh tokens: log in, refresh, verify, log out, and the \
                     public keys. Every other method of a token endpoint answers 405 \
                     (`#/components/responses/MethodNotAllowed`).",
                )),
        )
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some([
            TagBuilder::new()
                .name("tokens")
                .description(Some("Log in, refresh, verify and log out."))
                .build(),
            TagBuilder::new()
                .name("keys")
                .description(Some("The public keys that verify the tokens."))
                .build(),
        ]))
        .build()
}

/// Adds `AuthLayer`'s answers to an operation of a route it guards: the
/// bearer security requirement, the 401 bodies (each as an example), 503
/// and 500. The route's own answers (its 200) are the caller's to add.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::http::openapi::protected;
/// use utoipa::openapi::path::OperationBuilder;
///
/// let operation = protected(OperationBuilder::new()).build();
/// assert!(operation.responses.responses.contains_key("401"));
/// assert!(operation.security.is_some());
/// ```
pub fn protected(
    operation: utoipa::openapi::path::OperationBuilder,
) -> utoipa::openapi::path::OperationBuilder {
    operations::protected(operation)
}

/// `Authorization: Bearer <access>` as an HTTP bearer scheme; another
/// header or scheme word (`auth_header_name`, `auth_header_types`) as an
/// API key in that header.
fn security_scheme(config: &JwtConfig) -> SecurityScheme {
    let standard = config
        .auth_header_name
        .eq_ignore_ascii_case("authorization")
        && config.auth_header_types.iter().any(|kind| kind == "Bearer");
    if standard {
        let http = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("An access token from the obtain or refresh endpoint."));
        return SecurityScheme::Http(http.build());
    }
    let kinds = config.auth_header_types.join("`, `");
    SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        config.auth_header_name.clone(),
        format!("`<type> <access token>`, the type one of `{kinds}`."),
    )))
}
