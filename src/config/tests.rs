use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::*;

#[test]
fn defaults_are_simplejwts() {
    let config = JwtConfig::default();
    assert_eq!(config.access_token_lifetime, Duration::from_secs(300));
    assert_eq!(config.refresh_token_lifetime, Duration::from_secs(86_400));
    assert!(!config.rotate_refresh_tokens);
    assert!(!config.blacklist_after_rotation);
    assert_eq!(config.algorithm, Algorithm::HS256);
    assert_eq!(config.leeway, Duration::ZERO);
    assert_eq!(config.auth_header_name, "Authorization");
    assert_eq!(config.user_id_claim, "user_id");
    assert_eq!(config.token_type_claim, "token_type");
    assert_eq!(config.jti_claim, "jti");
    assert!(config.check_user_is_active);
    assert_eq!(config.reuse_grace, Duration::ZERO);
    assert_eq!(config.max_body_bytes, 65_536);
}

#[test]
fn serde_round_trip_and_unknown_fields() {
    let config = JwtConfig::simplejwt_guide("k")
        .with_reuse(Duration::from_secs(5), ReusePolicy::BlacklistOnly);
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(serde_json::from_str::<JwtConfig>(&json).unwrap(), config);
    assert!(json.contains(r#""reuse_policy":"blacklist-only""#));
    assert!(serde_json::from_str::<JwtConfig>(r#"{"acess_token_lifetime": 5}"#).is_err());
}

#[test]
fn transport_settings_are_checked() {
    let auto = JwtConfig::simplejwt_guide("k").with_auto_refresh(AutoRefreshSettings::enabled());
    assert!(matches!(
        auto.check(),
        Err(ConfigError::Invalid("reuse_grace", _))
    ));
    let auto = auto.with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
    assert_eq!(auto.check(), Ok(()));
    assert_eq!(auto.refresh_cookie_path(), "/");
    let mut bad = JwtConfig::new("k").with_cookies(CookieSettings::enabled());
    bad.cookies.refresh_name = "refresh token".into();
    assert!(matches!(
        bad.check(),
        Err(ConfigError::Invalid("cookies.refresh_name", _))
    ));
    let mut bad = JwtConfig::new("k");
    bad.cookies.same_site = SameSite::None;
    bad.cookies.secure = false;
    assert!(matches!(
        bad.check(),
        Err(ConfigError::Invalid("cookies.same_site", _))
    ));
    let mut bad = JwtConfig::new("k");
    bad.auto_refresh.access_header = "X Access".into();
    assert!(matches!(
        bad.check(),
        Err(ConfigError::Invalid("auto_refresh.access_header", _))
    ));
}

#[test]
fn zero_lifetimes_and_bad_names_are_refused() {
    let zero = JwtConfig::new("k").with_access_token_lifetime(Duration::ZERO);
    assert_eq!(
        zero.check(),
        Err(ConfigError::Zero("access_token_lifetime"))
    );
    let zero = JwtConfig::new("k").with_refresh_token_lifetime(Duration::from_millis(500));
    assert_eq!(
        zero.check(),
        Err(ConfigError::Zero("refresh_token_lifetime"))
    );
    let mut bad = JwtConfig::new("k");
    bad.jti_claim = String::new();
    assert!(matches!(
        bad.check(),
        Err(ConfigError::Invalid("jti_claim", _))
    ));
    let mut bad = JwtConfig::new("k");
    bad.auth_header_types = vec!["Bearer Token".into()];
    assert!(matches!(
        bad.check(),
        Err(ConfigError::Invalid("auth_header_types", _))
    ));
    let mut bad = JwtConfig::new("k");
    bad.auth_header_name = "Bad Header".into();
    assert!(matches!(
        bad.check(),
        Err(ConfigError::Invalid("auth_header_name", _))
    ));
}

#[test]
fn header_names_are_checked_as_rfc_9110_tokens() {
    let mut config = JwtConfig::new("k");
    config.auth_header_name = "X-Api_Token".into();
    assert_eq!(config.check(), Ok(()));
    for bad in ["", "X Token", "X-Token:", "Tökén", "X-Token\n"] {
        config.auth_header_name = bad.into();
        assert!(
            matches!(
                config.check(),
                Err(ConfigError::Invalid("auth_header_name", _))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn the_login_path_is_read_under_its_former_name_too() {
    let config: JwtConfig =
        serde_json::from_str(r#"{"signing_key": "s3cret", "paths": {"obtain": "/auth/login/"}}"#)
            .unwrap();
    assert_eq!(config.paths.issue, "/auth/login/");
    let config: JwtConfig =
        serde_json::from_str(r#"{"signing_key": "s3cret", "paths": {"issue": "/auth/in/"}}"#)
            .unwrap();
    assert_eq!(config.paths.issue, "/auth/in/");
}
