//! How remote keys are fetched and kept fresh.

use std::time::Duration;

use crate::config::ConfigError;

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
    /// expired keys (default 10 s, at least 1 s: tokens with made-up kids
    /// must not make every request a fetch).
    pub min_refetch_interval: Duration,
    /// Timeout of one fetch (default 5 s).
    pub timeout: Duration,
    /// How long keys fetched from an issuer are used while it cannot be
    /// reached (default 24 hours): once the last successful fetch is older,
    /// the issuer's tokens are refused ("Token is invalid", as a token of an
    /// issuer we do not know) until a fetch succeeds again. Measured by the
    /// injectable clock. At least `refresh_interval`.
    pub max_key_age: Duration,
    /// **For tests only**: also fetch keys and discovery documents over
    /// plain `http://` (default `false`). Anyone on the path of a plain
    /// HTTP fetch can substitute a key and sign tokens for any user; a
    /// warning is logged whenever it is used.
    pub danger_allow_plain_http_for_tests: bool,
}

impl RemoteSettings {
    /// Checks that the settings can work: intervals above zero, refetches
    /// at most once a second, and keys
    /// allowed to live at least until the next background refresh.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("refresh_interval", self.refresh_interval),
            ("timeout", self.timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.min_refetch_interval < Duration::from_secs(1) {
            return Err(ConfigError::Invalid(
                "min_refetch_interval",
                format!(
                    "{:?} is under 1 s: every token naming an unknown kid would fetch the keys",
                    self.min_refetch_interval
                ),
            ));
        }
        if self.max_key_age < self.refresh_interval {
            return Err(ConfigError::Invalid(
                "max_key_age",
                format!(
                    "{:?} is shorter than refresh_interval ({:?}): keys would expire before they are refreshed",
                    self.max_key_age, self.refresh_interval
                ),
            ));
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_cannot_work_are_refused() {
        assert_eq!(RemoteSettings::default().check(), Ok(()));
        let zero = RemoteSettings {
            refresh_interval: Duration::ZERO,
            ..RemoteSettings::default()
        };
        assert_eq!(zero.check(), Err(ConfigError::Zero("refresh_interval")));
        let no_timeout = RemoteSettings {
            timeout: Duration::ZERO,
            ..RemoteSettings::default()
        };
        assert_eq!(no_timeout.check(), Err(ConfigError::Zero("timeout")));
        let short_lived = RemoteSettings {
            max_key_age: Duration::from_secs(60),
            ..RemoteSettings::default()
        };
        assert!(matches!(
            short_lived.check(),
            Err(ConfigError::Invalid("max_key_age", _))
        ));
        let as_long = RemoteSettings {
            max_key_age: Duration::from_secs(300),
            ..RemoteSettings::default()
        };
        assert_eq!(as_long.check(), Ok(()));
        for too_often in [Duration::ZERO, Duration::from_millis(999)] {
            let refetch_storm = RemoteSettings {
                min_refetch_interval: too_often,
                ..RemoteSettings::default()
            };
            assert!(matches!(
                refetch_storm.check(),
                Err(ConfigError::Invalid("min_refetch_interval", _))
            ));
        }
        let once_a_second = RemoteSettings {
            min_refetch_interval: Duration::from_secs(1),
            ..RemoteSettings::default()
        };
        assert_eq!(once_a_second.check(), Ok(()));
    }
}
