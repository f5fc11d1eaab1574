//! `GET /healthz` (the process answers) and `GET /readyz` (the stores
//! answer too), for load balancers and orchestrators.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_simplejwt::credentials::{SqliteUserStore, UserStore};
use tower_simplejwt::store::TokenStore;
use tower_simplejwt::ApiError;

use crate::app::refusal;

/// How long a store may take to answer a readiness probe: a store that
/// hangs is not ready either.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/readyz` probes.
#[derive(Debug, Clone)]
pub struct Stores {
    /// The token store the server uses (timed, so probes show in the metrics).
    pub tokens: Arc<dyn TokenStore>,
    /// The users' database.
    pub users: SqliteUserStore,
}

/// `router` with `/healthz` and `/readyz`.
pub fn routes(router: Router, stores: Stores) -> Router {
    router
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz).with_state(stores))
}

/// 200 `{"status":"ok"}` as long as the process serves requests.
async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// 200 `{"status":"ok"}` when a cheap read of each store succeeds; else the
/// contract's 503 `service_unavailable` body, the failing store logged.
async fn readyz(State(stores): State<Stores>) -> Response {
    // A jti no token has: the lookup reads the store and changes nothing.
    let jti = format!("{:032x}", rand::random::<u128>());
    let tokens = probe("token store", stores.tokens.state("", &jti));
    let users = probe("user store", stores.users.find_by_id("0"));
    match tokio::join!(tokens, users) {
        (true, true) => Json(json!({"status": "ok"})).into_response(),
        _ => refusal(ApiError::ServiceUnavailable),
    }
}

/// Whether `read` answers in time; a failure is logged with the store's name.
async fn probe<T, E: std::error::Error + 'static>(
    store: &'static str,
    read: impl std::future::Future<Output = Result<T, E>>,
) -> bool {
    match tokio::time::timeout(PROBE_TIMEOUT, read).await {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            tracing::warn!(store, error = %crate::with_causes(&error), "not ready");
            false
        }
        Err(_) => {
            tracing::warn!(store, timeout = ?PROBE_TIMEOUT, "not ready: no answer in time");
            false
        }
    }
}
