//! Token lifetimes, rotation and the reuse of rotated refresh tokens.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::JwtConfig;

/// What a replay of an already rotated refresh token (after the grace window) does.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::ReusePolicy;
///
/// assert_eq!(ReusePolicy::default(), ReusePolicy::RevokeFamily);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReusePolicy {
    /// Refuse the replay and revoke the whole family, the successor included (RFC 9700).
    #[default]
    RevokeFamily,
    /// Refuse the replay only; the successor keeps working (the reference's behaviour).
    BlacklistOnly,
}

impl JwtConfig {
    /// Sets `access_token_lifetime`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::new("secret").with_access_token_lifetime(Duration::from_secs(900));
    /// assert_eq!(config.access_token_lifetime.as_secs(), 900);
    /// ```
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Sets `refresh_token_lifetime`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::new("secret").with_refresh_token_lifetime(Duration::from_secs(30 * 86_400));
    /// assert_eq!(config.refresh_token_lifetime.as_secs(), 2_592_000);
    /// ```
    pub fn with_refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Sets `rotate_refresh_tokens` and `blacklist_after_rotation`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// // The reference's behaviour: a rotated refresh token keeps working.
    /// let config = JwtConfig::simplejwt_guide("secret").with_rotation(true, false);
    /// assert!(config.rotate_refresh_tokens && !config.blacklist_after_rotation);
    /// ```
    pub fn with_rotation(mut self, rotate: bool, blacklist_after_rotation: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self.blacklist_after_rotation = blacklist_after_rotation;
        self
    }

    /// Sets the leeway on `exp`, `nbf` and `iat`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::new("secret").with_leeway(Duration::from_secs(30));
    /// assert_eq!(config.leeway.as_secs(), 30);
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the reuse grace window and what a replay after it revokes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_simplejwt::config::{JwtConfig, ReusePolicy};
    ///
    /// let config = JwtConfig::simplejwt_guide("secret")
    ///     .with_reuse(Duration::from_secs(10), ReusePolicy::BlacklistOnly);
    /// assert_eq!(config.reuse_grace.as_secs(), 10);
    /// assert_eq!(config.reuse_policy, ReusePolicy::BlacklistOnly);
    /// ```
    pub fn with_reuse(mut self, grace: Duration, policy: ReusePolicy) -> Self {
        self.reuse_grace = grace;
        self.reuse_policy = policy;
        self
    }
}

/// Durations as whole seconds in serde.
pub(super) mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(in crate::config) fn serialize<S: Serializer>(
        duration: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_secs())
    }

    pub(in crate::config) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}
