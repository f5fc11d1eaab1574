//! Prometheus metrics at `GET /metrics`, through the `metrics` crate and
//! its Prometheus exporter, rendered by the route itself (the exporter runs
//! no listener of its own).
//!
//! The HTTP counters come from a middleware around every route that reads
//! what a client reads: the path, the status and, for a 401 or a 503, the
//! contract body's `detail` and `code`. The token store's latency, errors
//! and the security events only the store sees come from [`TimedStore`]
//! (`timed_store.rs`).
//!
//! [`TimedStore`]: crate::timed_store::TimedStore

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_simplejwt::config::JwtConfig;

use crate::Error;

/// The metrics' names.
pub mod names {
    /// Responses by endpoint (a known path, or `other`) and status.
    pub const RESPONSES: &str = "simplejwt_http_responses_total";
    /// Token pairs handed out by the obtain endpoint (logins).
    pub const PAIRS_ISSUED: &str = "simplejwt_pairs_issued_total";
    /// Successful refreshes, by the refresh endpoint or automatic refresh (`via`).
    pub const REFRESHES: &str = "simplejwt_refreshes_total";
    /// 401 answers by endpoint, `reason` (the contract's message) and `code`.
    pub const UNAUTHORIZED: &str = "simplejwt_unauthorized_total";
    /// 503 answers by endpoint and `code` (`store_unavailable`: the token
    /// store; `service_unavailable`: the users' database or readiness).
    pub const UNAVAILABLE: &str = "simplejwt_unavailable_total";
    /// Refresh tokens presented again after their rotation (and its grace window).
    pub const REUSE_DETECTED: &str = "simplejwt_refresh_reuse_detected_total";
    /// Families (sessions) revoked, by `cause`: reuse, logout or subject.
    pub const FAMILIES_REVOKED: &str = "simplejwt_families_revoked_total";
    /// Token store calls' latency by `operation`, in seconds.
    pub const STORE_SECONDS: &str = "simplejwt_token_store_seconds";
    /// Token store calls that failed, by `operation`.
    pub const STORE_ERRORS: &str = "simplejwt_token_store_errors_total";
    /// Expired token records deleted by the purge task.
    pub const RECORDS_PURGED: &str = "simplejwt_token_records_purged_total";
}

/// Histogram buckets of the store latency, in seconds: 100 µs to 5 s.
const STORE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 5.0,
];

/// The largest 401 or 503 body read to count its reason.
const BODY_LIMIT: usize = 16 * 1024;

/// Installs the process's recorder and describes the metrics.
pub fn install() -> Result<PrometheusHandle, Error> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(names::STORE_SECONDS.into()), &STORE_BUCKETS)?
        .install_recorder()?;
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!(names::RESPONSES, "HTTP responses by endpoint and status");
    describe_counter!(names::PAIRS_ISSUED, "Token pairs issued at login");
    describe_counter!(
        names::REFRESHES,
        "Successful refreshes, by endpoint or automatic refresh"
    );
    describe_counter!(
        names::UNAUTHORIZED,
        "401 answers by endpoint, reason and code"
    );
    describe_counter!(names::UNAVAILABLE, "503 answers by endpoint and code");
    describe_counter!(
        names::REUSE_DETECTED,
        "Refresh tokens reused after rotation"
    );
    describe_counter!(names::FAMILIES_REVOKED, "Token families revoked, by cause");
    describe_histogram!(
        names::STORE_SECONDS,
        Unit::Seconds,
        "Token store call latency"
    );
    describe_counter!(names::STORE_ERRORS, "Token store calls that failed");
    describe_counter!(names::RECORDS_PURGED, "Expired token records purged");
    Ok(handle)
}

/// `router` with `GET /metrics` rendering `handle`.
pub fn route(router: Router, handle: PrometheusHandle) -> Router {
    router.route("/metrics", get(render).with_state(handle))
}

async fn render(State(handle): State<PrometheusHandle>) -> Response {
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// What the counting middleware needs to know of the routes.
#[derive(Debug, Clone)]
pub struct Endpoints {
    issue: String,
    refresh: String,
    /// Paths counted under their own name; any other is `other`, so that
    /// scanners cannot grow the label set.
    known: Arc<[String]>,
    /// The header automatic refresh hands a new access token in.
    auto_refreshed: Option<HeaderName>,
    /// The cookie it sets instead in cookie mode, as `name=`.
    auto_refreshed_cookie: Option<String>,
}

impl Endpoints {
    /// The endpoints of `config` and the app's other `routes`.
    pub fn new(config: &JwtConfig, routes: &[&str]) -> Self {
        let paths = &config.paths;
        let mut known: Vec<String> = [
            &paths.issue,
            &paths.refresh,
            &paths.verify,
            &paths.blacklist,
            &paths.jwks,
            &paths.openid_configuration,
        ]
        .into_iter()
        .cloned()
        .collect();
        known.extend(routes.iter().map(|route| (*route).to_owned()));
        let auto_refresh = &config.auto_refresh;
        Endpoints {
            issue: paths.issue.clone(),
            refresh: paths.refresh.clone(),
            known: known.into(),
            auto_refreshed: auto_refresh
                .enabled
                .then(|| HeaderName::from_bytes(auto_refresh.access_header.as_bytes()).ok())
                .flatten(),
            auto_refreshed_cookie: (auto_refresh.enabled && config.cookies.enabled)
                .then(|| format!("{}=", config.cookies.access_name)),
        }
    }

    fn label(&self, path: &str) -> String {
        match self.known.iter().any(|known| known == path) {
            true => path.to_owned(),
            false => "other".to_owned(),
        }
    }

    fn auto_refreshed(&self, response: &Response) -> bool {
        let headers = response.headers();
        let by_header = self
            .auto_refreshed
            .as_ref()
            .is_some_and(|name| headers.contains_key(name));
        let by_cookie = self.auto_refreshed_cookie.as_ref().is_some_and(|prefix| {
            headers
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|cookie| cookie.as_bytes().starts_with(prefix.as_bytes()))
        });
        by_header || by_cookie
    }
}

/// `router` with every response counted.
pub fn layer(router: Router, endpoints: Endpoints) -> Router {
    router.layer(middleware::from_fn_with_state(endpoints, count))
}

async fn count(State(endpoints): State<Endpoints>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let endpoint = endpoints.label(&path);
    let response = next.run(request).await;
    let status = response.status();
    metrics::counter!(names::RESPONSES, "endpoint" => endpoint.clone(), "status" => status.as_str().to_owned())
        .increment(1);
    match status {
        StatusCode::OK if path == endpoints.issue => {
            metrics::counter!(names::PAIRS_ISSUED).increment(1);
        }
        StatusCode::OK if path == endpoints.refresh => {
            metrics::counter!(names::REFRESHES, "via" => "endpoint").increment(1);
        }
        StatusCode::UNAUTHORIZED | StatusCode::SERVICE_UNAVAILABLE => {
            return count_refusal(endpoint, response).await;
        }
        _ => {}
    }
    if endpoints.auto_refreshed(&response) {
        metrics::counter!(names::REFRESHES, "via" => "auto").increment(1);
    }
    response
}

/// Counts a 401 or 503 by its body's reason, and hands the same response on.
async fn count_refusal(endpoint: String, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let (reason, code) = reason_of(&bytes);
    match parts.status {
        StatusCode::UNAUTHORIZED => {
            metrics::counter!(names::UNAUTHORIZED, "endpoint" => endpoint, "reason" => reason, "code" => code)
                .increment(1);
        }
        _ => {
            metrics::counter!(names::UNAVAILABLE, "endpoint" => endpoint, "code" => code)
                .increment(1);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A contract body's reason (the wrapped token message of a protected route,
/// else `detail`) and `code` (`none` when it has none).
fn reason_of(body: &[u8]) -> (String, String) {
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
    let reason = text(&body["messages"][0]["message"])
        .or_else(|| text(&body["detail"]))
        .unwrap_or_else(|| "unknown".to_owned());
    let code = text(&body["code"]).unwrap_or_else(|| "none".to_owned());
    (reason, code)
}
