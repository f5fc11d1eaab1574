//! Refreshing: [`Jwt::refresh`], with rotation, families and the grace window.

use super::{Jwt, LifecycleError};
use crate::credentials::Subject;
use crate::store::{
    seal, RecordedToken, Rotation, RotationOutcome, StoreError, TokenState, CLOCK_SKEW_MARGIN,
};
use crate::token::{Claims, Expected, MintedToken, TokenError, TokenKind, UserIdClaim};

/// What a refresh token was exchanged for.
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
/// let pair = jwt.issue_for(&Subject::new("1", "alice", true)).await.unwrap();
/// let refreshed = jwt.refresh(&pair.refresh.token).await.unwrap();
/// // The guide rotates refresh tokens: a successor comes with the access token.
/// let successor = refreshed.refresh.unwrap();
/// assert_ne!(successor.claims.jti, pair.refresh.claims.jti);
/// assert_eq!(refreshed.access.claims.subject(), Some("1"));
/// # });
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Refreshed {
    /// A new access token.
    pub access: MintedToken,
    /// The successor refresh token, when refresh tokens rotate (`None` otherwise).
    pub refresh: Option<MintedToken>,
    /// The token's user as the authenticator found it while refreshing
    /// (`None` when the token names no user).
    pub subject: Option<Subject>,
}

/// The subject a refresh token names, as recorded in the store ("" when it names none).
pub(crate) fn subject_of(claims: &Claims) -> &str {
    claims.subject().unwrap_or("")
}

/// The store's record of a verified refresh token, kept as long as the
/// configured leeway may still accept it. Every token of its family was
/// minted by now, so none is kept past now + the refresh lifetime + leeway +
/// margin: a family revoked through it is kept that long.
pub(crate) fn recorded(jwt: &Jwt, jti: &str, subject: &str, exp: u64) -> RecordedToken {
    let config = jwt.config();
    let family_until = jwt
        .clock()
        .now()
        .saturating_add(config.refresh_token_lifetime.as_secs())
        .saturating_add(config.leeway.as_secs())
        .saturating_add(CLOCK_SKEW_MARGIN.as_secs());
    RecordedToken::new(jti, subject, exp)
        .with_leeway(config.leeway)
        .with_family_until(family_until)
}

impl Jwt {
    /// Exchanges a refresh token for a new access token and, when refresh
    /// tokens rotate, its successor (see the token store's family rules:
    /// the grace window, reuse detection, unrecorded tokens).
    ///
    /// The token's user must still exist and be active
    /// ([`LifecycleError::InactiveSubject`]); a rotated, logged-out or
    /// revoked token gives `LifecycleError::Token(TokenError::Blacklisted)`.
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
    /// jwt.refresh(&pair.refresh.token).await.unwrap();
    /// // Rotated: presenting it again (after the grace window, 0 here) is reuse.
    /// assert!(matches!(
    ///     jwt.refresh(&pair.refresh.token).await,
    ///     Err(LifecycleError::Token(TokenError::Blacklisted))
    /// ));
    /// # });
    /// ```
    pub async fn refresh(&self, refresh_token: &str) -> Result<Refreshed, LifecycleError> {
        let claims = self
            .codec()
            .verify(refresh_token, Expected::Kind(TokenKind::Refresh))?;
        self.refresh_verified(&claims, refresh_token).await
    }

    /// [`Jwt::refresh`] of a token already verified as a refresh token
    /// (`claims` read from `token`), as automatic refresh calls it.
    ///
    /// With a grace window, the successor is handed to the store sealed with
    /// the presented token, and a replayed one is opened with it: the store
    /// never holds a successor that refreshes on its own.
    pub(crate) async fn refresh_verified(
        &self,
        claims: &Claims,
        token: &str,
    ) -> Result<Refreshed, LifecycleError> {
        let subject = self.check_subject(claims).await?;
        let access = self.codec().mint_access_from(claims)?;
        if !self.config().rotate_refresh_tokens {
            let state = self.state_of(claims).await?;
            if self.refused_without_rotation(state) {
                return Err(TokenError::Blacklisted.into());
            }
            return Ok(Refreshed {
                access,
                refresh: None,
                subject,
            });
        }
        let successor = self.codec().mint_successor(claims)?;
        let rules = self.rotation_rules();
        let sealed_successor = if rules.reuse_grace.is_zero() || !rules.blacklist_after_rotation {
            None
        } else {
            let sealed = seal::seal(token, &claims.jti, &successor.token)
                .map_err(|error| LifecycleError::Internal(format!("sealing failed: {error}")))?;
            Some(sealed)
        };
        let subject_id = subject_of(claims);
        let rotation = Rotation {
            presented: recorded(self, &claims.jti, subject_id, claims.exp),
            successor: recorded(
                self,
                &successor.claims.jti,
                subject_id,
                successor.claims.exp,
            ),
            sealed_successor,
            rules,
        };
        let outcome = self.store().rotate(rotation, self.clock().clone()).await?;
        let refresh = match outcome {
            RotationOutcome::Rotated => successor,
            RotationOutcome::Replayed { sealed_successor } => {
                self.replayed_successor(claims, token, &sealed_successor)?
            }
            RotationOutcome::Refused(reason) => {
                tracing::info!(jti = %claims.jti, ?reason, "refresh token refused");
                return Err(TokenError::Blacklisted.into());
            }
        };
        Ok(Refreshed {
            access,
            refresh: Some(refresh),
            subject,
        })
    }

    /// The successor handed out at the first rotation, opened with the
    /// presented token. Its claims are read as kept, with no time or key
    /// check: a replay on a server whose clock is a second behind, or after
    /// a key rotation, still gets it.
    fn replayed_successor(
        &self,
        claims: &Claims,
        token: &str,
        sealed: &str,
    ) -> Result<MintedToken, LifecycleError> {
        let successor = seal::open(token, &claims.jti, sealed).map_err(|error| {
            LifecycleError::Store(StoreError::Corrupt(format!(
                "replay of {}: {error}",
                claims.jti
            )))
        })?;
        let successor_claims = self
            .codec()
            .claims_of_kept_token(&successor)
            .map_err(|error| {
                LifecycleError::Internal(format!(
                    "the successor kept for {} cannot be read: {error}",
                    claims.jti
                ))
            })?;
        Ok(MintedToken {
            token: successor,
            claims: successor_claims,
        })
    }

    /// The store's state of a refresh token.
    pub(crate) async fn state_of(&self, claims: &Claims) -> Result<TokenState, LifecycleError> {
        Ok(self.store().state(subject_of(claims), &claims.jti).await?)
    }

    /// Whether a refresh token in `state` is refused where it is not rotated.
    fn refused_without_rotation(&self, state: TokenState) -> bool {
        state.is_refused_by_verify()
            || (state == TokenState::Unknown && !self.config().accept_unrecorded_refresh_tokens)
    }

    /// The user named by the token must exist and be active. A token that
    /// names no user passes, as in the reference. A blacklisted token is
    /// reported as blacklisted first, as the reference checks the blacklist
    /// before the user.
    async fn check_subject(&self, claims: &Claims) -> Result<Option<Subject>, LifecycleError> {
        let found = match &claims.user_id {
            UserIdClaim::Missing => return Ok(None),
            UserIdClaim::Unusable => None,
            UserIdClaim::Id(id) => self.authenticator().subject(id).await?,
        };
        let check_active = self.config().check_user_is_active;
        if let Some(subject) = found.filter(|subject| subject.is_active || !check_active) {
            return Ok(Some(subject));
        }
        if self.state_of(claims).await?.is_refused_by_verify() {
            return Err(TokenError::Blacklisted.into());
        }
        Err(LifecycleError::InactiveSubject)
    }
}
