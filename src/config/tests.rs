use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::*;

#[test]
fn defaults_are_simplejwts_with_rotation_and_without_migration_mode() {
    let config = JwtConfig::default();
    assert_eq!(config.access_token_lifetime, Duration::from_secs(300));
    assert_eq!(config.refresh_token_lifetime, Duration::from_secs(86_400));
    assert!(config.rotate_refresh_tokens);
    assert!(config.blacklist_after_rotation);
    assert!(!config.accept_unrecorded_refresh_tokens);
    let simplejwt = JwtConfig::new("k").with_rotation(false, false);
    assert!(!simplejwt.rotate_refresh_tokens && !simplejwt.blacklist_after_rotation);
    let guide = JwtConfig::simplejwt_guide("k");
    assert!(guide.accept_unrecorded_refresh_tokens);
    assert!(
        !guide
            .with_migration_mode(false)
            .accept_unrecorded_refresh_tokens
    );
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

#[test]
fn cookie_names_carry_the_prefixes_their_attributes_allow() {
    let config = JwtConfig::new("k").with_cookies(CookieSettings::enabled());
    assert_eq!(config.access_cookie_name(), "__Host-access_token");
    assert_eq!(config.refresh_cookie_name(), "__Secure-refresh_token");
    assert_eq!(config.check(), Ok(()));

    // A Domain: `__Host-` cannot be used, `__Secure-` can.
    let mut shared = config.clone();
    shared.cookies.domain = Some("example.com".into());
    assert_eq!(shared.access_cookie_name(), "__Secure-access_token");
    assert_eq!(shared.refresh_cookie_name(), "__Secure-refresh_token");

    // No Secure: no prefix can be used; the names fall back, the build goes on.
    let mut plain = config.clone();
    plain.cookies.secure = false;
    assert_eq!(plain.access_cookie_name(), "access_token");
    assert_eq!(plain.refresh_cookie_name(), "refresh_token");
    assert_eq!(plain.check(), Ok(()));

    // `__Host-` for the refresh cookie holds only on the path `/`.
    let mut host_refresh = config.clone();
    host_refresh.cookies.refresh_name = "__Host-refresh_token".into();
    assert_eq!(host_refresh.refresh_cookie_name(), "__Secure-refresh_token");
    host_refresh.cookies.refresh_path = Some("/".into());
    assert_eq!(host_refresh.refresh_cookie_name(), "__Host-refresh_token");

    // Names without a prefix are kept as they are.
    let mut custom = config;
    custom.cookies.access_name = "jwt".into();
    assert_eq!(custom.access_cookie_name(), "jwt");

    // A prefix with nothing after it leaves no name once dropped.
    let mut empty = JwtConfig::new("k").with_cookies(CookieSettings::enabled());
    empty.cookies.secure = false;
    empty.cookies.access_name = "__Host-".into();
    assert!(matches!(
        empty.check(),
        Err(ConfigError::Invalid("cookies.access_name", _))
    ));
}
