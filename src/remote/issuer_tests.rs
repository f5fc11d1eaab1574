//! Tests of `issuer`.

use super::*;

const ISSUER: &str = "https://auth.example";
const URL: &str = "https://auth.example/.well-known/openid-configuration";

fn document(issuer: &str, jwks_uri: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"issuer": issuer, "jwks_uri": jwks_uri})).unwrap()
}

#[test]
fn a_discovery_document_must_name_the_issuer_asked() {
    let found = RemoteIssuer::from_discovery(
        ISSUER,
        URL,
        &document(ISSUER, "https://keys.example/jwks"),
        false,
    )
    .unwrap();
    assert_eq!(found.issuer(), ISSUER);
    assert_eq!(found.jwks_url(), "https://keys.example/jwks");
    for other in [
        "https://evil.example",
        "https://auth.example/",
        "https://AUTH.example",
        "",
    ] {
        assert_eq!(
            RemoteIssuer::from_discovery(
                ISSUER,
                URL,
                &document(other, "https://keys.example/jwks"),
                false
            ),
            Err(RemoteError::IssuerMismatch {
                configured: ISSUER.into(),
                discovered: other.into()
            })
        );
    }
}

#[test]
fn an_https_discovery_document_pointing_at_plain_http_keys_is_refused() {
    let jwks_uri = "http://auth.example/jwks";
    assert_eq!(
        RemoteIssuer::from_discovery(ISSUER, URL, &document(ISSUER, jwks_uri), false),
        Err(RemoteError::InsecureUrl {
            issuer: ISSUER.into(),
            url: jwks_uri.into()
        })
    );
    assert!(RemoteIssuer::from_discovery(ISSUER, URL, &document(ISSUER, jwks_uri), true).is_ok());
    assert!(matches!(
        RemoteIssuer::from_discovery(ISSUER, URL, b"{\"issuer\": 1}", false),
        Err(RemoteError::Fetch { .. })
    ));
}

#[test]
fn an_issuer_needs_an_https_key_url_and_an_audience_unless_waived() {
    let settings = RemoteSettings::default();
    let plain = RemoteIssuer::new(ISSUER, "http://auth.example/jwks").with_audience("api");
    assert!(matches!(
        plain.check(&settings),
        Err(RemoteError::InsecureUrl { .. })
    ));
    let for_tests = RemoteSettings {
        danger_allow_plain_http_for_tests: true,
        ..RemoteSettings::default()
    };
    assert_eq!(plain.check(&for_tests), Ok(()));

    let no_audience = RemoteIssuer::new(ISSUER, "https://auth.example/jwks");
    assert_eq!(
        no_audience.clone().with_audience(" ").check(&settings),
        Err(RemoteError::MissingAudience {
            issuer: ISSUER.into()
        }),
        "a blank audience is none"
    );
    assert!(matches!(
        RemoteIssuer::new("", "https://auth.example/jwks")
            .with_audience("api")
            .check(&settings),
        Err(RemoteError::Config(ConfigError::Invalid("issuer", _)))
    ));
    assert_eq!(
        no_audience.check(&settings),
        Err(RemoteError::MissingAudience {
            issuer: ISSUER.into()
        })
    );
    assert_eq!(
        no_audience
            .clone()
            .danger_accept_any_audience()
            .check(&settings),
        Ok(())
    );
    assert_eq!(
        no_audience
            .danger_accept_any_audience()
            .with_audience("api")
            .audience(),
        Some("api"),
        "an audience given after the waiver is required again"
    );
}
