//! [`OpenApiLayer`]: the document as JSON and the docs page, from the crate.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{
    HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_layer::Layer;
use tower_service::Service;
use utoipa::openapi::OpenApi;

use crate::http::answer_future::ResponseFuture;
use crate::http::{ApiError, ResponseBody};

/// Where [`OpenApiLayer::new`] serves the document.
pub const SCHEMA_PATH: &str = "/api/schema/";
/// Where [`OpenApiLayer::new`] serves the docs page (its assets below it).
pub const DOCS_PATH: &str = "/api/docs/";

const PAGE: &str = include_str!("assets/index.html");
const INIT: &str = include_str!("assets/init.js");
const BUNDLE: &str = include_str!("assets/swagger-ui-bundle.js");
const STYLE: &str = include_str!("assets/swagger-ui.css");

/// Only this server's own files, scripts and data: the page reaches nowhere else.
const PAGE_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Serves an OpenAPI document as JSON and Swagger UI for it; see the
/// [module documentation](super).
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::http::openapi::{document, OpenApiLayer};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let config = JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more");
/// let app = ServiceBuilder::new()
///     .layer(OpenApiLayer::new(&document(&config)))
///     .service(service_fn(|_: Request<Full<bytes::Bytes>>| async {
///         Ok::<_, Infallible>(Response::new(Full::from("the app")))
///     }));
/// let page = Request::get("/api/docs/").body(Full::default()).unwrap();
/// let response = app.clone().oneshot(page).await.unwrap();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
/// let schema = Request::get("/api/schema/").body(Full::default()).unwrap();
/// assert_eq!(app.oneshot(schema).await.unwrap().headers()["content-type"], "application/json");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct OpenApiLayer {
    files: Arc<Files>,
}

#[derive(Debug)]
struct Files {
    schema_path: String,
    docs_path: String,
    schema: Bytes,
    page: Bytes,
}

impl OpenApiLayer {
    /// Serves `document` at [`SCHEMA_PATH`] and the page at [`DOCS_PATH`].
    pub fn new(document: &OpenApi) -> Self {
        OpenApiLayer::with_paths(document, SCHEMA_PATH, DOCS_PATH)
    }

    /// Serves `document` at `schema_path` and the page at `docs_path` (a
    /// folder: a missing final `/` is added), its assets below it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::http::openapi::{document, OpenApiLayer};
    ///
    /// let config = JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more");
    /// let layer = OpenApiLayer::with_paths(&document(&config), "/openapi.json", "/docs");
    /// # let _ = layer;
    /// ```
    pub fn with_paths(document: &OpenApi, schema_path: &str, docs_path: &str) -> Self {
        let mut docs_path = docs_path.to_owned();
        if !docs_path.ends_with('/') {
            docs_path.push('/');
        }
        // A document's maps are keyed by strings: serializing cannot fail.
        let schema = serde_json::to_vec(document).unwrap_or_else(|_| b"{}".to_vec());
        let page = PAGE.replace("{schema_url}", &attribute_text(schema_path));
        OpenApiLayer {
            files: Arc::new(Files {
                schema_path: schema_path.to_owned(),
                docs_path,
                schema: Bytes::from(schema),
                page: Bytes::from(page),
            }),
        }
    }
}

/// `text` escaped for a double-quoted HTML attribute.
fn attribute_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl<S> Layer<S> for OpenApiLayer {
    type Service = OpenApiService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OpenApiService {
            inner,
            files: self.files.clone(),
        }
    }
}

/// Answers the document and the docs page, passes other requests to `S`.
#[derive(Debug, Clone)]
pub struct OpenApiService<S> {
    inner: S,
    files: Arc<Files>,
}

impl<S> OpenApiService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// A file of ours: its content type, body, and whether it may be cached.
struct File {
    content_type: &'static str,
    body: Bytes,
    immutable: bool,
}

impl Files {
    fn file(&self, path: &str) -> Option<File> {
        let (content_type, body, immutable) = if path == self.schema_path {
            ("application/json", self.schema.clone(), false)
        } else {
            match path.strip_prefix(self.docs_path.as_str())? {
                "" => ("text/html; charset=utf-8", self.page.clone(), false),
                "init.js" => (
                    "text/javascript; charset=utf-8",
                    Bytes::from_static(INIT.as_bytes()),
                    true,
                ),
                "swagger-ui-bundle.js" => (
                    "text/javascript; charset=utf-8",
                    Bytes::from_static(BUNDLE.as_bytes()),
                    true,
                ),
                "swagger-ui.css" => (
                    "text/css; charset=utf-8",
                    Bytes::from_static(STYLE.as_bytes()),
                    true,
                ),
                _ => return None,
            }
        };
        Some(File {
            content_type,
            body,
            immutable,
        })
    }
}

fn answer(file: File) -> Response<Full<Bytes>> {
    let html = file.content_type.starts_with("text/html");
    let mut response = Response::new(Full::new(file.body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(file.content_type));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The assets change only with the crate; the document and the page
    // with the configuration, so they are revalidated.
    let cache = if file.immutable {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if html {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    response
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for OpenApiService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let Some(file) = self.files.file(request.uri().path()) else {
            return ResponseFuture::inner(self.inner.call(request));
        };
        let response = match *request.method() {
            Method::GET | Method::HEAD => answer(file),
            ref other => {
                let mut response = ApiError::MethodNotAllowed(other.clone()).into_response();
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
                response
            }
        };
        ResponseFuture::endpoint(Box::pin(std::future::ready(response))
            as crate::future::BoxFuture<'static, Response<Full<Bytes>>>)
    }
}
