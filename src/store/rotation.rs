//! One rotation request, the rules it follows, and what rotations and logouts answer.

use std::time::Duration;

use super::RecordedToken;
use crate::config::{JwtConfig, ReusePolicy};

/// The settings a rotation follows, taken from [`JwtConfig`].
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::store::RotationRules;
///
/// let rules = RotationRules::from_config(&JwtConfig::simplejwt_guide("s"));
/// assert!(rules.blacklist_after_rotation);
/// assert_eq!(rules.reuse_grace.as_secs(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationRules {
    /// How long a rotated token still gets its successor (0: never).
    pub reuse_grace: Duration,
    /// What a replay after the window revokes.
    pub reuse_policy: ReusePolicy,
    /// Mark the presented token used (and so refuse it later). When false,
    /// as the reference with `BLACKLIST_AFTER_ROTATION = False`, it stays active.
    pub blacklist_after_rotation: bool,
    /// Accept a token never recorded, starting a new family.
    pub accept_unrecorded: bool,
}

impl Default for RotationRules {
    fn default() -> Self {
        RotationRules {
            reuse_grace: Duration::ZERO,
            reuse_policy: ReusePolicy::RevokeFamily,
            blacklist_after_rotation: true,
            accept_unrecorded: true,
        }
    }
}

impl RotationRules {
    /// The rules of a configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::store::RotationRules;
    ///
    /// let config = JwtConfig::simplejwt_guide("s");
    /// assert_eq!(RotationRules::from_config(&config).reuse_grace, config.reuse_grace);
    /// ```
    pub fn from_config(config: &JwtConfig) -> Self {
        RotationRules {
            reuse_grace: config.reuse_grace,
            reuse_policy: config.reuse_policy,
            blacklist_after_rotation: config.blacklist_after_rotation,
            accept_unrecorded: config.accept_unrecorded_refresh_tokens,
        }
    }

    /// Whether a replay after the window revokes the whole family.
    pub(crate) fn revokes_family(&self) -> bool {
        self.reuse_policy == ReusePolicy::RevokeFamily
    }
}

/// One rotation request: the presented token, its would-be successor, and the rules.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::{RecordedToken, Rotation, RotationRules};
///
/// let rotation = Rotation {
///     presented: RecordedToken::new("a", "1", 2_000),
///     successor: RecordedToken::new("b", "1", 3_000),
///     sealed_successor: None,
///     rules: RotationRules::default(),
/// };
/// assert_eq!(rotation.successor.subject, "1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The refresh token presented to the refresh endpoint.
    pub presented: RecordedToken,
    /// The successor minted for it, recorded if the rotation happens.
    pub successor: RecordedToken,
    /// The successor's encoded token [sealed](super::seal) with the presented token,
    /// handed back to replays within the grace window; `None` keeps nothing
    /// (a grace window of 0 never replays). The store keeps it only while the
    /// window lasts and never sees the successor in clear.
    pub sealed_successor: Option<String>,
    /// The settings to follow.
    pub rules: RotationRules,
}

/// Why a rotation was refused (all are "Token is blacklisted" on the wire).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::{Refusal, RotationOutcome};
///
/// assert_ne!(RotationOutcome::Refused(Refusal::Reused), RotationOutcome::Rotated);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The token was blacklisted (logged out, revoked, or its family revoked).
    Blacklisted,
    /// A used token presented after the grace window: reuse.
    Reused,
    /// The token was never recorded and unrecorded tokens are refused.
    Unrecorded,
}

/// The result of [`TokenStore::rotate`](super::TokenStore::rotate).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::RotationOutcome;
///
/// let replayed = RotationOutcome::Replayed { sealed_successor: "s1.…".into() };
/// assert!(matches!(replayed, RotationOutcome::Replayed { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The successor was recorded; hand it out.
    Rotated,
    /// A replay within the grace window: hand out this earlier successor instead.
    Replayed {
        /// The successor recorded by the first rotation, still sealed: open it
        /// with [`seal::open`](super::seal::open) and the presented token.
        sealed_successor: String,
    },
    /// Refused: answer "Token is blacklisted".
    Refused(Refusal),
}

/// The result of [`TokenStore::blacklist`](super::TokenStore::blacklist).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::store::BlacklistOutcome;
///
/// assert_ne!(BlacklistOutcome::Blacklisted, BlacklistOutcome::AlreadyBlacklisted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistOutcome {
    /// The token is blacklisted from now on.
    Blacklisted,
    /// It already was (logged out, rotated or revoked before). A rotated
    /// token presented here still revokes its family.
    AlreadyBlacklisted,
}
