use tower_layer::Layer;

use std::sync::Arc;

use super::AuthService;
use crate::http::delivery::HeaderNames;
use crate::Jwt;

/// Applies [`AuthService`]; see the [module documentation](super).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::AuthLayer;
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
/// use tower_simplejwt::Jwt;
///
/// let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
///     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
///     .build()
///     .unwrap();
/// let required = AuthLayer::new(jwt.clone());
/// let optional = AuthLayer::optional(jwt);
/// # let _ = (required, optional);
/// ```
#[derive(Debug, Clone)]
pub struct AuthLayer {
    jwt: Jwt,
    names: Arc<HeaderNames>,
    required: bool,
}

impl AuthLayer {
    /// Every request must carry a valid access token.
    pub fn new(jwt: Jwt) -> Self {
        AuthLayer {
            names: Arc::new(HeaderNames::from_config(jwt.config())),
            jwt,
            required: true,
        }
    }

    /// Requests without credentials pass on unauthenticated (no claims in
    /// their extensions); requests with bad credentials still get the 401.
    /// This is DRF's behaviour on a view that allows anonymous users.
    pub fn optional(jwt: Jwt) -> Self {
        AuthLayer {
            names: Arc::new(HeaderNames::from_config(jwt.config())),
            jwt,
            required: false,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService::new(inner, self.jwt.clone(), self.names.clone(), self.required)
    }
}
