//! The obtain endpoint (`POST /api/token/`): credentials in, a token pair out.
//!
//! `{"username", "password"}` → `200 {"refresh", "access"}` for an active
//! user; wrong credentials, an unknown or an inactive user all get the same
//! `401 {"detail": "No active account found with the given credentials"}`,
//! in the same time. The refresh token is recorded in the token store as the
//! first of a new family.
//!
//! # Examples
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::issue::IssueLayer;
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = IssueLayer::new(jwt);
//! # let _ = ServiceBuilder::new().layer(layer);
//! ```

use serde_json::{json, Value};

use crate::endpoint::{EndpointLayer, EndpointService, Obtain};
use crate::error::ApiError;
use crate::store::RecordedToken;
use crate::Jwt;

/// Answers the obtain endpoint; see the [module documentation](self).
pub type IssueLayer = EndpointLayer<Obtain>;
/// The service of [`IssueLayer`].
pub type IssueService<S> = EndpointService<Obtain, S>;

pub(crate) async fn obtain_pair(
    jwt: &Jwt,
    username: &str,
    password: &str,
) -> Result<Value, ApiError> {
    let subject = jwt.authenticator().authenticate(username, password).await?;
    let subject = match subject {
        Some(subject) if subject.is_active || !jwt.config().check_user_is_active => subject,
        _ => return Err(ApiError::NoActiveAccount),
    };
    let pair = jwt.codec().mint_pair(&subject.id, &subject.extra_claims)?;
    jwt.store()
        .record(RecordedToken::new(
            &pair.refresh.claims.jti,
            &subject.id,
            pair.refresh.claims.exp,
        ))
        .await?;
    tracing::info!(subject = %subject.id, "token pair issued");
    Ok(json!({"refresh": pair.refresh.token, "access": pair.access.token}))
}
