//! A refresh token as the store knows it, and what the store knows of a `jti`.

use std::time::Duration;

use super::{CLOCK_SKEW_MARGIN, MAX_TIMESTAMP};

/// A refresh token as the store knows it.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::RecordedToken;
///
/// let token = RecordedToken::new("0123456789abcdef0123456789abcdef", "1", 1_800_000_000);
/// assert_eq!(token.subject, "1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedToken {
    /// The token's `jti`.
    pub jti: String,
    /// The user id the token was issued to.
    pub subject: String,
    /// The token's `exp`.
    pub expires_at: u64,
    /// The leeway the token is verified with: it is accepted until `exp + leeway`.
    pub leeway: Duration,
    /// A bound on the keep-until of every token its family may already hold
    /// (tokens minted before this one are kept at most until now + the
    /// refresh lifetime + leeway + [`CLOCK_SKEW_MARGIN`]); 0 when unknown.
    /// A family revoked through this token is kept at least that long, so
    /// a later token of it never outlives the revocation.
    pub family_until: u64,
}

impl RecordedToken {
    /// A token record, verified without leeway.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::RecordedToken;
    ///
    /// assert_eq!(RecordedToken::new("j", "1", 1_000).leeway.as_secs(), 0);
    /// ```
    pub fn new(jti: impl Into<String>, subject: impl Into<String>, expires_at: u64) -> Self {
        RecordedToken {
            jti: jti.into(),
            subject: subject.into(),
            expires_at,
            leeway: Duration::ZERO,
            family_until: 0,
        }
    }

    /// The same record whose family may hold tokens kept until `family_until`
    /// (see [`family_until`](Self::family_until)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::RecordedToken;
    ///
    /// let token = RecordedToken::new("j", "1", 1_000).with_family_until(9_000);
    /// assert_eq!(token.family_retained_until(), 9_000);
    /// ```
    pub fn with_family_until(mut self, family_until: u64) -> Self {
        self.family_until = family_until;
        self
    }

    /// Until when a family revoked through this token is kept: the later of
    /// [`retained_until`](Self::retained_until) and [`family_until`](Self::family_until).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::{RecordedToken, CLOCK_SKEW_MARGIN};
    ///
    /// let token = RecordedToken::new("j", "1", 1_000);
    /// assert_eq!(token.family_retained_until(), 1_000 + CLOCK_SKEW_MARGIN.as_secs());
    /// ```
    pub fn family_retained_until(&self) -> u64 {
        self.retained_until()
            .max(self.family_until.min(MAX_TIMESTAMP))
    }

    /// The same record for a token verified with `leeway` on its `exp`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::store::RecordedToken;
    ///
    /// let token = RecordedToken::new("j", "1", 1_000).with_leeway(Duration::from_secs(30));
    /// assert_eq!(token.retained_until(), 1_000 + 30 + 300);
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Until when every backend keeps the record: `exp + leeway +`
    /// [`CLOCK_SKEW_MARGIN`]. Until then the token may still be accepted
    /// by some server, so forgetting it earlier would bring it back as
    /// "never seen".
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::RecordedToken;
    ///
    /// use tower_simplejwt::store::MAX_TIMESTAMP;
    ///
    /// assert_eq!(RecordedToken::new("j", "1", u64::MAX).retained_until(), MAX_TIMESTAMP);
    /// ```
    pub fn retained_until(&self) -> u64 {
        self.expires_at
            .saturating_add(self.leeway.as_secs())
            .saturating_add(CLOCK_SKEW_MARGIN.as_secs())
            .min(MAX_TIMESTAMP)
    }

    /// The token's `exp` as a backend stores it (at most [`MAX_TIMESTAMP`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::{RecordedToken, MAX_TIMESTAMP};
    ///
    /// assert_eq!(RecordedToken::new("j", "1", u64::MAX).stored_expires_at(), MAX_TIMESTAMP);
    /// ```
    pub fn stored_expires_at(&self) -> u64 {
        self.expires_at.min(MAX_TIMESTAMP)
    }
}

/// What a store knows of one `jti`.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::TokenState;
///
/// assert!(TokenState::Used.is_refused_by_verify());
/// assert!(!TokenState::Active.is_refused_by_verify());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Never recorded (or purged after expiry).
    Unknown,
    /// Recorded and usable (its family is not revoked).
    Active,
    /// Rotated: only a replay within the grace window still gets its successor.
    Used,
    /// Logged out, revoked, or part of a revoked family.
    Blacklisted,
}

impl TokenState {
    /// The state a backend stored as text (`None`: no record).
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
    pub(crate) fn from_stored(state: Option<&str>) -> Result<Self, super::StoreError> {
        match state {
            None => Ok(TokenState::Unknown),
            Some("active") => Ok(TokenState::Active),
            Some("used") => Ok(TokenState::Used),
            Some("blacklisted") => Ok(TokenState::Blacklisted),
            Some(other) => Err(super::StoreError::Corrupt(format!(
                "unknown token state {other:?}"
            ))),
        }
    }

    /// Whether the verify endpoint answers "Token is blacklisted" for this state.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::TokenState;
    ///
    /// assert!(TokenState::Blacklisted.is_refused_by_verify());
    /// assert!(!TokenState::Unknown.is_refused_by_verify());
    /// ```
    pub fn is_refused_by_verify(self) -> bool {
        matches!(self, TokenState::Used | TokenState::Blacklisted)
    }

    /// The state of a token whose own record says `self`, in a family that
    /// is `family_revoked`: a revoked family blacklists every token of it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::store::TokenState;
    ///
    /// assert_eq!(TokenState::Active.in_family(true), TokenState::Blacklisted);
    /// assert_eq!(TokenState::Unknown.in_family(true), TokenState::Unknown);
    /// assert_eq!(TokenState::Used.in_family(false), TokenState::Used);
    /// ```
    pub fn in_family(self, family_revoked: bool) -> Self {
        match self {
            TokenState::Active | TokenState::Used if family_revoked => TokenState::Blacklisted,
            state => state,
        }
    }
}
