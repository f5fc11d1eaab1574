//! A plain hyper 1 server (no axum): `JwtLayer` in front of a `service_fn`.
//! Shared by the example's `main` and its tests.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_simplejwt::credentials::Subject;
use tower_simplejwt::{Jwt, JwtLayer};

/// The application behind the layer: `GET /api/me/`, and 404 elsewhere.
async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/api/me/") => match request.extensions().get::<Subject>() {
            Some(subject) => (
                StatusCode::OK,
                serde_json::json!({"username": subject.username}),
            ),
            None => (
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"detail": "Authentication credentials were not provided."}),
            ),
        },
        _ => (
            StatusCode::NOT_FOUND,
            serde_json::json!({"detail": "Not found."}),
        ),
    };
    let mut response = Response::new(Full::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Serves HTTP/1.1 connections from `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, jwt: Jwt) {
    let service = ServiceBuilder::new()
        .layer(JwtLayer::new(jwt))
        .service_fn(handle);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}
