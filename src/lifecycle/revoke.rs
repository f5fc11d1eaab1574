//! Ending tokens: [`Jwt::blacklist`] (logout) and [`Jwt::revoke_subject`] (logout everywhere).

use super::refresh::{recorded, subject_of};
use super::{Jwt, LifecycleError};
use crate::store::BlacklistOutcome;
use crate::token::{Expected, TokenError, TokenKind};

impl Jwt {
    /// Logs a refresh token out: from now on it is refused by
    /// [`Jwt::refresh`] (and by [`Jwt::verify`] when
    /// `blacklist_after_rotation` is on), and so is every token of its
    /// family. A token already blacklisted, rotated or revoked gives
    /// `LifecycleError::Token(TokenError::Blacklisted)`; an access token
    /// `TokenError::WrongType`.
    ///
    /// Access tokens already handed out stay valid until they expire (they
    /// are checked without the store); keep their lifetime short.
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
    /// let jwt = Jwt::builder(JwtConfig::simplejwt_guide("an example secret of 32 bytes or more"))
    ///     .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
    ///     .build()
    ///     .unwrap();
    /// let pair = jwt.issue_for(&Subject::new("1", "alice", true)).await.unwrap();
    /// jwt.blacklist(&pair.refresh.token).await.unwrap();
    /// assert!(matches!(
    ///     jwt.refresh(&pair.refresh.token).await,
    ///     Err(LifecycleError::Token(TokenError::Blacklisted))
    /// ));
    /// # });
    /// ```
    pub async fn blacklist(&self, refresh_token: &str) -> Result<(), LifecycleError> {
        let claims = self
            .codec()
            .verify(refresh_token, Expected::Kind(TokenKind::Refresh))?;
        let record = recorded(self, &claims.jti, subject_of(&claims), claims.exp);
        let outcome = self.store().blacklist(record).await?;
        match outcome {
            BlacklistOutcome::Blacklisted => {
                tracing::info!(jti = %claims.jti, "refresh token logged out");
                Ok(())
            }
            BlacklistOutcome::AlreadyBlacklisted => Err(TokenError::Blacklisted.into()),
        }
    }

    /// Revokes every refresh token of a subject (logout everywhere, a
    /// password change, a compromised account): every family of the
    /// subject ends, whatever is in flight, and the number of families
    /// (signed-in sessions) that were still live is returned. Refresh tokens
    /// the store never recorded are not covered: in migration mode (unrecorded
    /// tokens accepted) a token minted elsewhere still refreshes. As with [`Jwt::blacklist`], access tokens already handed
    /// out live until their short lifetime ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore};
    /// use tower_simplejwt::Jwt;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let users = MemoryUserStore::new();
    /// users.create("alice", "unused", true).await.unwrap(); // user id "1"
    /// let jwt = Jwt::builder(JwtConfig::simplejwt_guide("an example secret of 32 bytes or more"))
    ///     .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
    ///     .build()
    ///     .unwrap();
    /// let alice = Subject::new("1", "alice", true);
    /// let laptop = jwt.issue_for(&alice).await.unwrap();
    /// let phone = jwt.issue_for(&alice).await.unwrap();
    /// jwt.revoke_subject("1").await.unwrap();
    /// assert!(jwt.refresh(&laptop.refresh.token).await.is_err());
    /// assert!(jwt.refresh(&phone.refresh.token).await.is_err());
    /// # });
    /// ```
    pub async fn revoke_subject(&self, subject_id: &str) -> Result<u64, LifecycleError> {
        if subject_id.is_empty() {
            return Err(LifecycleError::EmptySubjectId);
        }
        let revoked = self.store().revoke_subject(subject_id).await?;
        tracing::info!(subject = %subject_id, families = revoked, "every refresh token of the subject revoked");
        Ok(revoked)
    }
}
