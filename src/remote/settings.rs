//! How remote keys are fetched and kept fresh.

use std::time::Duration;

/// How remote keys are fetched and kept fresh.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tower_simplejwt::remote::RemoteSettings;
///
/// let settings = RemoteSettings { max_key_age: Duration::from_secs(6 * 3600), ..RemoteSettings::default() };
/// assert_eq!(settings.refresh_interval, Duration::from_secs(300));
/// assert!(!settings.danger_allow_plain_http_for_tests);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    /// Background refetch period (default 5 minutes).
    pub refresh_interval: Duration,
    /// The least time between two refetches caused by unknown kids or
    /// expired keys (default 10 s).
    pub min_refetch_interval: Duration,
    /// Timeout of one fetch (default 5 s).
    pub timeout: Duration,
    /// How long keys fetched from an issuer are used while it cannot be
    /// reached (default 24 hours): once the last successful fetch is older,
    /// the issuer's tokens are refused ("Token is invalid", as a token of an
    /// issuer we do not know) until a fetch succeeds again. Measured by the
    /// injectable clock.
    pub max_key_age: Duration,
    /// **For tests only**: also fetch keys and discovery documents over
    /// plain `http://` (default `false`). Anyone on the path of a plain
    /// HTTP fetch can substitute a key and sign tokens for any user; a
    /// warning is logged whenever it is used.
    pub danger_allow_plain_http_for_tests: bool,
}

impl RemoteSettings {
    /// Whether plain HTTP is allowed, logging a warning when it is.
    pub(crate) fn plain_http_allowed(&self) -> bool {
        if self.danger_allow_plain_http_for_tests {
            tracing::warn!("remote issuer keys may be fetched over plain HTTP: for tests only");
        }
        self.danger_allow_plain_http_for_tests
    }
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            refresh_interval: Duration::from_secs(300),
            min_refetch_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            max_key_age: Duration::from_secs(24 * 60 * 60),
            danger_allow_plain_http_for_tests: false,
        }
    }
}
