//! The defaults (simplejwt's own) and the guide's preset.

use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::{AutoRefreshSettings, CookieSettings, EndpointPaths, JwtConfig, ReusePolicy, Secret};

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 60 * 60),
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            algorithm: Algorithm::HS256,
            signing_key: Secret::default(),
            verifying_key: None,
            key_id: None,
            audience: None,
            issuer: None,
            leeway: Duration::ZERO,
            auth_header_name: "Authorization".into(),
            auth_header_types: vec!["Bearer".into()],
            user_id_claim: "user_id".into(),
            token_type_claim: "token_type".into(),
            jti_claim: "jti".into(),
            check_user_is_active: true,
            paths: EndpointPaths::default(),
            reuse_grace: Duration::ZERO,
            reuse_policy: ReusePolicy::RevokeFamily,
            accept_unrecorded_refresh_tokens: true,
            cookies: CookieSettings::default(),
            auto_refresh: AutoRefreshSettings::default(),
            max_body_bytes: 64 * 1024,
            max_token_bytes: 8 * 1024,
            jwks_max_age: Duration::from_secs(300),
            verified_token_cache_capacity: 10_000,
        }
    }
}

impl JwtConfig {
    /// simplejwt's defaults, signing with `signing_key` (an HS256 secret).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::new("a long random secret, 32 bytes or more");
    /// assert_eq!(config.signing_key.expose(), "a long random secret, 32 bytes or more");
    /// assert!(!config.rotate_refresh_tokens);
    /// ```
    pub fn new(signing_key: impl Into<Secret>) -> Self {
        JwtConfig {
            signing_key: signing_key.into(),
            ..JwtConfig::default()
        }
    }

    /// The guide's preset: access 2 h, refresh 7 d, rotation on, blacklist after rotation on.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    ///
    /// let config = JwtConfig::simplejwt_guide("secret");
    /// assert_eq!(config.access_token_lifetime.as_secs(), 7200);
    /// assert_eq!(config.refresh_token_lifetime.as_secs(), 604_800);
    /// assert!(config.rotate_refresh_tokens && config.blacklist_after_rotation);
    /// ```
    pub fn simplejwt_guide(signing_key: impl Into<Secret>) -> Self {
        JwtConfig {
            access_token_lifetime: Duration::from_secs(2 * 60 * 60),
            refresh_token_lifetime: Duration::from_secs(7 * 24 * 60 * 60),
            rotate_refresh_tokens: true,
            blacklist_after_rotation: true,
            ..JwtConfig::new(signing_key)
        }
    }
}
