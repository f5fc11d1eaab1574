//! The API's OpenAPI document at `/api/schema/` and its docs page at
//! `/api/docs/` (Swagger UI, served from the crate: nothing is fetched from
//! elsewhere). The document is the library's, for the configured paths,
//! with this server's own protected route, `GET /api/me/`, added.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use serde_json::json;
use tower::Layer;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::http::openapi::{self, OpenApiLayer, DOCS_PATH, SCHEMA_PATH};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, ResponseBuilder};

/// Adds `/api/schema/` and `/api/docs/` (with its assets) to `router`.
pub fn with_docs(router: Router, config: &JwtConfig) -> Router {
    let mut document = openapi::document(config);
    document
        .paths
        .paths
        .insert("/api/me/".to_owned(), PathItem::new(HttpMethod::Get, me()));
    let docs = OpenApiLayer::new(&document).layer(axum::routing::any(not_found));
    router
        .route_service(SCHEMA_PATH, docs.clone())
        .route_service(DOCS_PATH, docs.clone())
        .route_service(&format!("{DOCS_PATH}{{asset}}"), docs)
}

/// `GET /api/me/`: the user the access token belongs to.
fn me() -> OperationBuilder {
    let user = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("username", ObjectBuilder::new().schema_type(Type::String))
        .property("issuer", ObjectBuilder::new().schema_type(Type::String))
        .property("user_id", ObjectBuilder::new().schema_type(Type::String));
    let ok = ResponseBuilder::new()
        .description("The user: its name, or for a trusted issuer's user its issuer and id.")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(user))
                .example(Some(json!({"username": "alice"})))
                .build(),
        );
    openapi::protected(
        OperationBuilder::new()
            .tag("example")
            .operation_id(Some("me"))
            .summary(Some("Who the access token belongs to"))
            .response("200", ok.build()),
    )
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."})))
}
