//! Cross-origin calls from a frontend served elsewhere (`--cors-origin`):
//! tower-http's `CorsLayer` answers the preflights, lets the listed origins
//! read the automatic-refresh headers and, in cookie mode, send cookies.

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_simplejwt::config::JwtConfig;

use crate::Error;

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: u64 = 600;

/// The CORS layer for `origins` (already checked by the command line), or
/// `None` when there is none: the API then stays same-origin only.
pub fn layer(config: &JwtConfig, origins: &[String]) -> Result<Option<CorsLayer>, Error> {
    if origins.is_empty() {
        return Ok(None);
    }
    let origins = origins
        .iter()
        .map(|origin| HeaderValue::from_str(origin))
        .collect::<Result<Vec<_>, _>>()?;
    let auto_refresh = &config.auto_refresh;
    let name = |name: &str| HeaderName::from_bytes(name.as_bytes());
    let allowed = [
        header::CONTENT_TYPE,
        name(&config.auth_header_name)?,
        name(&auto_refresh.request_header)?,
    ];
    let exposed = [
        name(&auto_refresh.access_header)?,
        name(&auto_refresh.refresh_header)?,
    ];
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(allowed)
            .expose_headers(exposed)
            .allow_credentials(config.cookies.enabled)
            .max_age(std::time::Duration::from_secs(PREFLIGHT_MAX_AGE)),
    ))
}
