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
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Sets `refresh_token_lifetime`.
    pub fn with_refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Sets `rotate_refresh_tokens` and `blacklist_after_rotation`.
    pub fn with_rotation(mut self, rotate: bool, blacklist_after_rotation: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self.blacklist_after_rotation = blacklist_after_rotation;
        self
    }

    /// Sets the leeway on `exp`, `nbf` and `iat`.
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the reuse grace window and what a replay after it revokes.
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
