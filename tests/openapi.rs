//! The OpenAPI document (feature `openapi`): it parses, lists every path
//! and every status of CONTRACT.md's tables, its examples are the
//! contract's literal bodies, and `OpenApiLayer` serves it and the docs page.
#![cfg(feature = "openapi")]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::http::openapi::{document, protected, OpenApiLayer};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::OpenApi;

const SECRET: &str = "a long random secret of 32 bytes or more";
const TOKEN_ENDPOINTS: [&str; 4] = [
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
];

/// The library's document with a protected `GET /api/me/`, as the example server builds it.
fn guide_document() -> OpenApi {
    let mut document = document(&JwtConfig::simplejwt_guide(SECRET));
    let me = protected(OperationBuilder::new().operation_id(Some("me")));
    document
        .paths
        .paths
        .insert("/api/me/".into(), PathItem::new(HttpMethod::Get, me));
    document
}

fn json_of(document: &OpenApi) -> Value {
    serde_json::from_str(&document.to_json().unwrap()).unwrap()
}

fn operation<'a>(json: &'a Value, path: &str, method: &str) -> &'a Value {
    let operation = &json["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} missing");
    operation
}

/// The example bodies of `status` of an operation.
fn examples(operation: &Value, status: &str) -> Vec<Value> {
    let content = &operation["responses"][status]["content"]["application/json"];
    assert!(content.is_object(), "no JSON answer for {status}");
    let mut bodies: Vec<Value> = content["examples"]
        .as_object()
        .map(|examples| examples.values().map(|e| e["value"].clone()).collect())
        .unwrap_or_default();
    bodies.extend(content.get("example").cloned());
    bodies
}

#[test]
fn document_parses_as_openapi_3_1() {
    let text = guide_document().to_pretty_json().unwrap();
    let parsed: OpenApi = serde_json::from_str(&text).unwrap();
    // It reads back as an OpenAPI document that says the same.
    assert_eq!(json_of(&parsed), json_of(&guide_document()));
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["openapi"], "3.1.0");
    // Every `$ref` names a component that exists.
    let references = text
        .match_indices("\"#/components/")
        .map(|(at, _)| &text[at + 1..])
        .map(|rest| &rest[..rest.find('"').unwrap()]);
    for reference in references {
        let pointer = reference.trim_start_matches('#');
        assert!(json.pointer(pointer).is_some(), "dangling {reference}");
    }
}

#[test]
fn every_path_and_status_of_the_contract() {
    let json = json_of(&guide_document());
    let mut paths: Vec<&str> = json["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/.well-known/jwks.json",
            "/api/me/",
            "/api/token/",
            "/api/token/blacklist/",
            "/api/token/refresh/",
            "/api/token/verify/"
        ]
    );
    for path in TOKEN_ENDPOINTS {
        let post = operation(&json, path, "post");
        for status in ["200", "400", "401", "413", "415", "500", "503"] {
            assert!(post["responses"][status].is_object(), "{path} {status}");
        }
        let body = &post["requestBody"]["content"];
        assert!(
            body["application/json"].is_object()
                && body["application/x-www-form-urlencoded"].is_object()
        );
        // Every answer of a token endpoint is kept from caches.
        for (status, response) in post["responses"].as_object().unwrap() {
            assert_eq!(
                response["headers"]["Cache-Control"]["example"], "no-store",
                "{path} {status}"
            );
        }
        assert_eq!(
            post["responses"]["401"]["headers"]["WWW-Authenticate"]["example"],
            "Bearer realm=\"api\""
        );
        assert_eq!(
            post["responses"]["503"]["headers"]["Retry-After"]["example"],
            "1"
        );
    }
    let me = operation(&json, "/api/me/", "get");
    assert_eq!(me["security"], json!([{"bearer": []}]));
    for status in ["401", "500", "503"] {
        assert!(me["responses"][status].is_object(), "/api/me/ {status}");
    }
    assert_eq!(
        json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(operation(&json, "/.well-known/jwks.json", "get")["responses"]["200"].is_object());
    let not_allowed =
        &json["components"]["responses"]["MethodNotAllowed"]["content"]["application/json"];
    assert_eq!(
        not_allowed["examples"]["GET"]["value"],
        json!({"detail": "Method \"GET\" not allowed."})
    );
}

/// CONTRACT.md's bodies, literally, where each is answered.
#[test]
fn examples_are_the_contracts_bodies() {
    let json = json_of(&guide_document());
    let token = |message: &str| json!({"detail": message, "code": "token_not_valid"});
    let wrapped = |message: &str| {
        json!({"detail": "Given token not valid for any token type", "code": "token_not_valid",
               "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}]})
    };
    let messages = [
        "Token is invalid",
        "Token is expired",
        "Token has no id",
        "Token has no type",
        "Token has wrong type",
        "Token has no 'exp' claim",
        "Token is blacklisted",
    ];
    let check = |path: &str, status: &str, body: Value| {
        let method = if path == "/api/me/" { "get" } else { "post" };
        let bodies = examples(operation(&json, path, method), status);
        assert!(
            bodies.contains(&body),
            "{path} {status}: {body} not among {bodies:#?}"
        );
    };

    // POST /api/token/
    check(
        "/api/token/",
        "401",
        json!({"detail": "No active account found with the given credentials"}),
    );
    check(
        "/api/token/",
        "400",
        json!({"password": ["This field is required."]}),
    );
    check(
        "/api/token/",
        "400",
        json!({"username": ["This field may not be blank."]}),
    );
    check(
        "/api/token/",
        "400",
        json!({"password": ["This field may not be null."]}),
    );
    check(
        "/api/token/",
        "415",
        json!({"detail": "Unsupported media type \"text/plain\" in request."}),
    );
    // POST /api/token/refresh/
    for message in messages {
        for path in [
            "/api/token/refresh/",
            "/api/token/verify/",
            "/api/token/blacklist/",
        ] {
            check(path, "401", token(message));
        }
        check("/api/me/", "401", wrapped(message));
    }
    check(
        "/api/token/refresh/",
        "401",
        json!({"detail": "No active account found for the given token."}),
    );
    check(
        "/api/token/refresh/",
        "400",
        json!({"refresh": ["This field is required."]}),
    );
    check(
        "/api/token/refresh/",
        "400",
        json!({"refresh": ["This field may not be blank."]}),
    );
    // POST /api/token/verify/
    check("/api/token/verify/", "200", json!({}));
    check(
        "/api/token/verify/",
        "400",
        json!({"non_field_errors": ["Token is blacklisted"]}),
    );
    check(
        "/api/token/verify/",
        "400",
        json!({"token": ["This field is required."]}),
    );
    check(
        "/api/token/verify/",
        "400",
        json!({"token": ["This field may not be blank."]}),
    );
    // POST /api/token/blacklist/
    check("/api/token/blacklist/", "200", json!({}));
    check(
        "/api/token/blacklist/",
        "400",
        json!({"refresh": ["This field is required."]}),
    );
    // A protected resource
    for body in [
        json!({"detail": "Authentication credentials were not provided."}),
        json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}),
        json!({"detail": "User is inactive", "code": "user_inactive"}),
        json!({"detail": "User not found", "code": "user_not_found"}),
        json!({"detail": "Token contained no recognizable user identification", "code": "token_not_valid"}),
    ] {
        check("/api/me/", "401", body);
    }
    // Failures of our own, on every endpoint and protected route.
    for path in TOKEN_ENDPOINTS.into_iter().chain(["/api/me/"]) {
        check(
            path,
            "503",
            json!({"detail": "Token store unavailable, try again later.", "code": "store_unavailable"}),
        );
        check(
            path,
            "503",
            json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"}),
        );
        check(
            path,
            "500",
            json!({"detail": "A server error occurred.", "code": "server_error"}),
        );
    }
    for path in TOKEN_ENDPOINTS {
        check(path, "413", json!({"detail": "Request body too large."}));
        // `{"detail":"JSON parse error - …"}`: the tail is the parser's message.
        let parse_error = examples(operation(&json, path, "post"), "400")
            .into_iter()
            .filter_map(|body| body["detail"].as_str().map(str::to_owned))
            .any(|detail| detail.starts_with("JSON parse error - ") && detail.len() > 19);
        assert!(parse_error, "{path}: no JSON parse error example");
    }
}

#[test]
fn paths_follow_the_configuration() {
    let mut config = JwtConfig::simplejwt_guide(SECRET).with_issuer("https://auth.example.com");
    config.paths.issue = "/auth/login/".into();
    config.rotate_refresh_tokens = false;
    let json = json_of(&document(&config));
    assert!(json["paths"]["/auth/login/"]["post"].is_object());
    assert!(json["paths"]["/api/token/"].is_null());
    assert!(json["paths"][config.paths.openid_configuration.as_str()]["get"].is_object());
    // Without rotation a refresh answers no new refresh token.
    assert_eq!(
        json["components"]["schemas"]["Refreshed"]["required"],
        json!(["access"])
    );
}

async fn get(layer: &OpenApiLayer, method: &str, path: &str) -> Response<Bytes> {
    let app = layer.layer(service_fn(|_: Request<Full<Bytes>>| async {
        let mut response = Response::new(Full::from("the app"));
        *response.status_mut() = StatusCode::NOT_FOUND;
        Ok::<_, Infallible>(response)
    }));
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Full::default())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn schema_and_docs_page_are_served() {
    let document = guide_document();
    let layer = OpenApiLayer::new(&document);

    let schema = get(&layer, "GET", "/api/schema/").await;
    assert_eq!(schema.status(), 200);
    assert_eq!(schema.headers()["content-type"], "application/json");
    let served: OpenApi = serde_json::from_slice(schema.body()).unwrap();
    assert_eq!(json_of(&served), json_of(&document));

    let page = get(&layer, "GET", "/api/docs/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    let html = std::str::from_utf8(page.body()).unwrap();
    assert!(html.contains("data-schema-url=\"/api/schema/\""));
    // Every script and style sheet is the server's own.
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"] {
        assert!(html.contains(&format!("\"{asset}\"")), "{asset}");
        let served = get(&layer, "GET", &format!("/api/docs/{asset}")).await;
        assert_eq!(served.status(), 200, "{asset}");
        assert!(!served.body().is_empty());
    }
    assert!(!html.contains("http://") && !html.contains("https://"));

    assert_eq!(get(&layer, "HEAD", "/api/docs/").await.status(), 200);
    let post = get(&layer, "POST", "/api/schema/").await;
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    assert_eq!(
        get(&layer, "GET", "/api/docs/missing.js").await.status(),
        404
    );
    assert_eq!(get(&layer, "GET", "/elsewhere").await.body(), "the app");
}

#[tokio::test]
async fn paths_of_the_layer_are_chosen() {
    let layer = OpenApiLayer::with_paths(&guide_document(), "/openapi.json", "/docs");
    assert_eq!(get(&layer, "GET", "/openapi.json").await.status(), 200);
    let page = get(&layer, "GET", "/docs/").await;
    assert!(std::str::from_utf8(page.body())
        .unwrap()
        .contains("data-schema-url=\"/openapi.json\""));
    assert_eq!(get(&layer, "GET", "/docs/init.js").await.status(), 200);
    assert_eq!(get(&layer, "GET", "/api/schema/").await.status(), 404);
}
