//! Checking a token: [`Jwt::verify`].

use super::{Jwt, LifecycleError};
use crate::store::TokenState;
use crate::token::{Claims, Expected, TokenError, TokenKind};

impl Jwt {
    /// Verifies any of our tokens (access, refresh, or one without a type)
    /// and returns its claims, as the verify endpoint does.
    ///
    /// With `blacklist_after_rotation` on, a refresh token the store has
    /// blacklisted or rotated (and, unless unrecorded tokens are accepted,
    /// one it never recorded) gives
    /// `LifecycleError::Token(TokenError::Blacklisted)`. Access tokens are
    /// never looked up in the store, so this costs no store round trip for
    /// them.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore};
    /// use tower_simplejwt::token::TokenError;
    /// use tower_simplejwt::{Jwt, LifecycleError};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let users = MemoryUserStore::new();
    /// users.create("alice", "unused", true).await.unwrap(); // user id "1"
    /// let jwt = Jwt::builder(JwtConfig::new("an example secret of 32 bytes or more"))
    ///     .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
    ///     .build()
    ///     .unwrap();
    /// let pair = jwt.issue_for(&Subject::new("1", "alice", true)).await.unwrap();
    /// assert_eq!(jwt.verify(&pair.access.token).await.unwrap().subject(), Some("1"));
    /// assert!(matches!(
    ///     jwt.verify("not.a.token").await,
    ///     Err(LifecycleError::Token(TokenError::Invalid))
    /// ));
    /// # });
    /// ```
    pub async fn verify(&self, token: &str) -> Result<Claims, LifecycleError> {
        let claims = self.codec().verify(token, Expected::Any)?;
        let kind = claims.kind();
        if self.config().blacklist_after_rotation && kind != Some(TokenKind::Access) {
            let state = self.state_of(&claims).await?;
            let unrecorded_refused = state == TokenState::Unknown
                && kind == Some(TokenKind::Refresh)
                && !self.config().accept_unrecorded_refresh_tokens;
            if state.is_refused_by_verify() || unrecorded_refused {
                return Err(TokenError::Blacklisted.into());
            }
        }
        Ok(claims)
    }
}
