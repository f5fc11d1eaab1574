//! Issuing a pair: [`Jwt::login`] and [`Jwt::issue_for`].

use super::refresh::recorded;
use super::{Jwt, LifecycleError};
use crate::credentials::Subject;
use crate::token::TokenPair;

impl Jwt {
    /// Logs a user in with a username and password: a new pair, recorded in
    /// the token store as the first of a new family.
    ///
    /// Wrong credentials, an unknown user and (with `check_user_is_active`)
    /// an inactive one all give [`LifecycleError::InvalidCredentials`], in
    /// the same time. Password checks run within the authenticator's login
    /// limit: a saturated one is a store failure that says so
    /// ([`LifecycleError::Users`]), never a refusal.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore};
    /// use tower_simplejwt::{Jwt, LifecycleError};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hasher = PasswordHasher::default();
    /// let users = MemoryUserStore::new();
    /// users.create("alice", &hasher.hash("wonderland-42").unwrap(), true).await.unwrap();
    /// let jwt = Jwt::builder(JwtConfig::simplejwt_guide("an example secret of 32 bytes or more"))
    ///     .authenticator(PasswordAuthenticator::new(users, hasher))
    ///     .build()
    ///     .unwrap();
    ///
    /// let pair = jwt.login("alice", "wonderland-42").await.unwrap();
    /// assert_eq!(pair.access.claims.subject(), Some("1"));
    /// assert!(matches!(
    ///     jwt.login("alice", "wrong").await,
    ///     Err(LifecycleError::InvalidCredentials)
    /// ));
    /// # });
    /// ```
    pub async fn login(&self, username: &str, password: &str) -> Result<TokenPair, LifecycleError> {
        let subject = self
            .authenticator()
            .authenticate(username, password)
            .await?;
        match subject {
            Some(subject) if subject.is_active || !self.config().check_user_is_active => {
                self.issue_for(&subject).await
            }
            _ => Err(LifecycleError::InvalidCredentials),
        }
    }

    /// Issues a pair for a subject the app already trusts (after its own
    /// check: an OAuth callback, a sign-up, a magic link), as simplejwt's
    /// `RefreshToken.for_user(user)` does. The refresh token is recorded in
    /// the token store as the first of a new family, so it refreshes,
    /// rotates and logs out like one from [`Jwt::login`]. The subject's
    /// `extra_claims` go into both tokens.
    ///
    /// The subject must be a user the authenticator knows (its
    /// `Authenticator::subject` finds it by `id`): refreshing and
    /// authenticating look the user up, as simplejwt does, so a pair issued
    /// for an unknown id is refused at its first use.
    ///
    /// An inactive subject (with `check_user_is_active`) gives
    /// [`LifecycleError::InactiveSubject`]; another issuer's subject
    /// [`LifecycleError::ForeignSubject`]: local tokens are for local users.
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
    ///
    /// let mut subject = Subject::new("1", "alice@example.com", true);
    /// subject.extra_claims.insert("role".into(), "editor".into());
    /// let pair = jwt.issue_for(&subject).await.unwrap();
    /// assert_eq!(pair.refresh.claims.subject(), Some("1"));
    /// assert_eq!(pair.access.claims.extra["role"], "editor");
    /// # });
    /// ```
    pub async fn issue_for(&self, subject: &Subject) -> Result<TokenPair, LifecycleError> {
        if subject.id.is_empty() {
            return Err(LifecycleError::EmptySubjectId);
        }
        if let Some(issuer) = &subject.issuer {
            return Err(LifecycleError::ForeignSubject {
                issuer: issuer.clone(),
            });
        }
        if !subject.is_active && self.config().check_user_is_active {
            return Err(LifecycleError::InactiveSubject);
        }
        let pair = self.codec().mint_pair(&subject.id, &subject.extra_claims)?;
        let refresh = &pair.refresh.claims;
        self.store()
            .record(recorded(self, &refresh.jti, &subject.id, refresh.exp))
            .await?;
        tracing::info!(subject = %subject.id, "token pair issued");
        Ok(pair)
    }
}
