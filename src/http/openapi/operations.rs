//! The operations: the four token endpoints, the key documents, and the
//! answers of a route behind `AuthLayer`.

use http::Method;
use serde_json::{json, Value};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{ContentBuilder, Required, ResponsesBuilder};

use super::responses::{self, Answer};
use super::schemas::{name, reference};
use super::BEARER;
use crate::config::JwtConfig;
use crate::http::ApiError;

/// The tag of the token endpoints.
const TOKENS: &str = "tokens";
/// The tag of the key documents.
const KEYS: &str = "keys";

/// What sets one token endpoint apart from the others.
pub(super) struct TokenEndpoint {
    pub(super) operation_id: &'static str,
    pub(super) summary: &'static str,
    pub(super) description: &'static str,
    pub(super) request: &'static str,
    pub(super) request_example: Value,
    pub(super) fields: &'static [&'static str],
    pub(super) ok: Answer,
    pub(super) bad_request: Vec<(&'static str, ApiError)>,
    pub(super) unauthorized: Vec<(&'static str, ApiError)>,
}

/// The four token endpoints, with their paths in `config`.
pub(super) fn token_endpoints(config: &JwtConfig) -> Vec<(String, TokenEndpoint)> {
    let token = responses::token_errors(ApiError::Token);
    let paths = &config.paths;
    let example_token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2lnbmF0dXJl";
    vec![
        (
            paths.issue.clone(),
            TokenEndpoint {
                operation_id: "obtain_token_pair",
                summary: "Log in: credentials for a token pair",
                description: "simplejwt's `TokenObtainPairView`. Wrong password, unknown user and \
                          inactive user all get the same 401.",
                request: name::OBTAIN_REQUEST,
                request_example: json!({"username": "alice", "password": "wonderland-42"}),
                fields: &["username", "password"],
                ok: Answer::json("A new pair.", name::TOKEN_PAIR).example(
                    "a new pair",
                    json!({"refresh": example_token, "access": example_token}),
                ),
                bad_request: Vec::new(),
                unauthorized: vec![("no active account", ApiError::NoActiveAccount)],
            },
        ),
        (
            paths.refresh.clone(),
            TokenEndpoint {
                operation_id: "refresh_token",
                summary: "Exchange a refresh token for a new access token",
                description: "simplejwt's `TokenRefreshView`. With rotation the answer carries a \
                          new refresh token and the presented one is blacklisted; presenting \
                          it again is refused (and, by default, revokes its whole family).",
                request: name::REFRESH_REQUEST,
                request_example: json!({"refresh": example_token}),
                fields: &["refresh"],
                ok: Answer::json("The new access token (and refresh token).", name::REFRESHED),
                bad_request: Vec::new(),
                unauthorized: token
                    .iter()
                    .cloned()
                    .chain([(
                        "no active account for the token",
                        ApiError::NoActiveAccountForToken,
                    )])
                    .collect(),
            },
        ),
        (
            paths.verify.clone(),
            TokenEndpoint {
                operation_id: "verify_token",
                summary: "Check a token",
                description: "simplejwt's `TokenVerifyView`: any valid token, access or refresh. \
                          A blacklisted refresh token is a 400, as in simplejwt.",
                request: name::VERIFY_REQUEST,
                request_example: json!({"token": example_token}),
                fields: &["token"],
                ok: Answer::json("The token is valid.", name::EMPTY).example("valid", json!({})),
                bad_request: vec![("blacklisted refresh token", ApiError::VerifyBlacklisted)],
                unauthorized: token.clone(),
            },
        ),
        (
            paths.blacklist.clone(),
            TokenEndpoint {
                operation_id: "blacklist_token",
                summary: "Log out: blacklist a refresh token",
                description: "simplejwt's `TokenBlacklistView`: the refresh token is refused from \
                          now on by refresh (401) and verify (400).",
                request: name::BLACKLIST_REQUEST,
                request_example: json!({"refresh": example_token}),
                fields: &["refresh"],
                ok: Answer::json("The token is logged out.", name::EMPTY)
                    .example("logged out", json!({})),
                bad_request: Vec::new(),
                unauthorized: token,
            },
        ),
    ]
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache`, which every
/// answer of a token endpoint carries.
fn not_stored(answer: Answer) -> Answer {
    answer
        .header("Cache-Control", responses::no_store())
        .header("Pragma", responses::pragma())
}

impl TokenEndpoint {
    /// The endpoint's path item: POST, in JSON or as a form.
    pub(super) fn path_item(self) -> PathItem {
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(reference(self.request)))
                    .example(Some(self.request_example)),
            )
            .content(
                "application/x-www-form-urlencoded",
                ContentBuilder::new().schema(Some(reference(self.request))),
            )
            .build();
        let mut bad_request: Vec<(String, ApiError)> = Vec::new();
        for field in self.fields {
            bad_request.extend(responses::field_errors(field));
        }
        let shared = responses::body_errors().into_iter().chain(self.bad_request);
        bad_request.extend(shared.map(|(summary, error)| (summary.to_owned(), error)));
        let content_type = "text/plain".to_owned();
        let responses = ResponsesBuilder::new()
            .response("200", not_stored(self.ok).build())
            .response(
                "400",
                not_stored(Answer::errors("The body is invalid.", &bad_request)).build(),
            )
            .response(
                "401",
                not_stored(Answer::errors(
                    "The credentials or the token are refused.",
                    &self.unauthorized,
                ))
                .build(),
            )
            .response(
                "413",
                not_stored(Answer::errors(
                    "The body is over the limit (`max_body_bytes`, 64 KiB by default).",
                    &[("too large", ApiError::PayloadTooLarge)],
                ))
                .build(),
            )
            .response(
                "415",
                not_stored(Answer::errors(
                    "A content type other than JSON or a URL-encoded form.",
                    &[("text/plain", ApiError::UnsupportedMediaType(content_type))],
                ))
                .build(),
            )
            .response("500", not_stored(responses::server_error()).build())
            .response("503", not_stored(responses::unavailable()).build());
        let operation = OperationBuilder::new()
            .tag(TOKENS)
            .operation_id(Some(self.operation_id))
            .summary(Some(self.summary))
            .description(Some(self.description))
            .request_body(Some(body))
            .responses(responses);
        PathItem::new(HttpMethod::Post, operation)
    }
}

/// `GET` of the JWK Set.
pub(super) fn jwks(config: &JwtConfig) -> PathItem {
    let max_age = format!("public, max-age={}", config.jwks_max_age.as_secs());
    let ok = Answer::json("The public keys.", name::JWKS).header(
        "Cache-Control",
        responses::string_header(
            "How long caches may keep the key set (`jwks_max_age`).",
            &max_age,
        ),
    );
    let operation = OperationBuilder::new()
        .tag(KEYS)
        .operation_id(Some("jwks"))
        .summary(Some("The public keys as a JWK Set (RFC 7517)"))
        .description(Some(
            "Empty for HMAC algorithms: their secret is never published.",
        ))
        .response("200", ok.build());
    PathItem::new(HttpMethod::Get, operation)
}

/// `GET` of the OpenID discovery document (only when an issuer is set).
pub(super) fn openid_configuration() -> PathItem {
    let operation = OperationBuilder::new()
        .tag(KEYS)
        .operation_id(Some("openid_configuration"))
        .summary(Some("OpenID discovery: the issuer and its JWK Set"))
        .response(
            "200",
            Answer::json("The discovery document.", name::OPENID_CONFIGURATION).build(),
        );
    PathItem::new(HttpMethod::Get, operation)
}

/// The answer of every endpoint to a method it does not allow.
pub(super) fn method_not_allowed() -> Answer {
    Answer::errors(
        "A method the endpoint does not allow; `Allow` lists those it does.",
        &[("GET", ApiError::MethodNotAllowed(Method::GET))],
    )
}

/// The refusals of `AuthLayer` in front of a route.
pub(super) fn protected(operation: OperationBuilder) -> OperationBuilder {
    let mut refused = vec![
        (
            "no credentials".to_owned(),
            ApiError::CredentialsNotProvided,
        ),
        (
            "bad Authorization header".to_owned(),
            ApiError::BadAuthorizationHeader,
        ),
    ];
    refused.extend(
        responses::token_errors(ApiError::AccessTokenRefused)
            .into_iter()
            .map(|(summary, error)| (format!("access token: {summary}"), error)),
    );
    refused.extend([
        ("user inactive".to_owned(), ApiError::UserInactive),
        ("user not found".to_owned(), ApiError::UserNotFound),
        ("no user id".to_owned(), ApiError::NoUserIdentification),
    ]);
    operation
        .security(utoipa::openapi::security::SecurityRequirement::new(
            BEARER,
            Vec::<String>::new(),
        ))
        .response(
            "401",
            Answer::errors("The access token is missing or refused.", &refused).build(),
        )
        .response("500", responses::server_error().build())
        .response("503", responses::unavailable().build())
}
