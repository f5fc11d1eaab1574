//! What the hidden flags switch on, for tests and benchmarks only (not in
//! `--help`): `--clock-file`, a clock several processes share, and
//! `--load-test-routes`, the twins of `GET /api/me/` that
//! `benches/load-example-server.sh` compares it with and the slow route the
//! shutdown test keeps in flight.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use tower_simplejwt::clock::{Clock, SystemClock};
use tower_simplejwt::credentials::{Authenticator, Subject};
use tower_simplejwt::{http::ApiError, token::TokenError};
use tower_simplejwt::{Algorithm, Jwt};

use crate::app::{me_view, refusal};
use crate::Error;

/// A clock read from a file holding Unix seconds, so that tests spanning
/// several processes can move time without sleeping. An unreadable file
/// falls back to the system clock.
#[derive(Debug)]
pub struct FileClock {
    pub path: PathBuf,
}

impl Clock for FileClock {
    fn now(&self) -> u64 {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or_else(|| SystemClock.now())
    }
}

/// The handler of `GET /api/me/` without `AuthLayer` (a fixed subject,
/// nothing verified) and behind a middleware written with plain
/// jsonwebtoken that looks the user up as `AuthLayer` does.
pub fn with_load_test_routes(router: Router, jwt: &Jwt) -> Result<Router, Error> {
    let config = jwt.config();
    if config.algorithm != Algorithm::HS256 {
        return Err("--load-test-routes verifies HS256 tokens only: drop --signing-key".into());
    }
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.leeway = config.leeway.as_secs();
    let verifier = Arc::new(PlainVerifier {
        key: jsonwebtoken::DecodingKey::from_secret(config.signing_key.expose().as_bytes()),
        validation,
        authenticator: jwt.authenticator().clone(),
    });
    let unverified = Subject::new("0", "load-test", true);
    Ok(router
        .route("/load-test/unprotected/", me_view(Extension(unverified)))
        .route(
            "/load-test/jsonwebtoken/",
            me_view(middleware::from_fn_with_state(
                verifier,
                verify_with_jsonwebtoken,
            )),
        ))
}

/// What `verify_with_jsonwebtoken` needs: the HS256 key and the user lookup.
struct PlainVerifier {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
    authenticator: Arc<dyn Authenticator>,
}

/// The claims of the contract's access token.
#[derive(serde::Deserialize)]
struct PlainClaims {
    token_type: String,
    user_id: String,
}

/// Verification as a handler written with jsonwebtoken alone does it:
/// decode the bearer token, then refuse unknown and inactive users.
async fn verify_with_jsonwebtoken(
    State(verifier): State<Arc<PlainVerifier>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return refusal(ApiError::CredentialsNotProvided);
    };
    let claims =
        match jsonwebtoken::decode::<PlainClaims>(token, &verifier.key, &verifier.validation) {
            Ok(data) if data.claims.token_type == "access" => data.claims,
            Ok(_) => return refusal(ApiError::AccessTokenRefused(TokenError::WrongType)),
            Err(_) => return refusal(ApiError::AccessTokenRefused(TokenError::Invalid)),
        };
    // The same lookup as AuthLayer's: in place when the store can answer
    // at once, else awaited.
    let found = match verifier.authenticator.subject_now(&claims.user_id) {
        Some(found) => found,
        None => verifier.authenticator.subject(&claims.user_id).await,
    };
    match found {
        Ok(Some(subject)) if subject.is_active => {
            request.extensions_mut().insert(subject);
            next.run(request).await
        }
        Ok(Some(_)) => refusal(ApiError::UserInactive),
        Ok(None) => refusal(ApiError::UserNotFound),
        Err(_) => refusal(ApiError::StoreUnavailable),
    }
}

/// The longest `GET /load-test/slow/` waits.
const SLOWEST: Duration = Duration::from_secs(60);

/// `GET /load-test/slow/?ms=N`, answering `{"slept_ms": N}` after N
/// milliseconds, and `GET /load-test/in-flight/`, how many slow requests
/// are being served: a test waits for 1 there before it sends SIGTERM.
pub fn with_slow_route(router: Router) -> Router {
    let in_flight = Arc::new(AtomicUsize::new(0));
    router
        .route("/load-test/slow/", get(slow).with_state(in_flight.clone()))
        .route(
            "/load-test/in-flight/",
            get(|State(in_flight): State<Arc<AtomicUsize>>| async move {
                Json(serde_json::json!({"in_flight": in_flight.load(Ordering::SeqCst)}))
            })
            .with_state(in_flight),
        )
}

#[derive(serde::Deserialize)]
struct Slow {
    ms: u64,
}

async fn slow(State(in_flight): State<Arc<AtomicUsize>>, Query(slow): Query<Slow>) -> Response {
    let duration = Duration::from_millis(slow.ms).min(SLOWEST);
    in_flight.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(duration).await;
    in_flight.fetch_sub(1, Ordering::SeqCst);
    Json(serde_json::json!({"slept_ms": duration.as_millis() as u64})).into_response()
}
