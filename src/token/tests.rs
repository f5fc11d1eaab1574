//! The contract's token rules, checked with a settable clock.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

use super::TokenError;
use super::*;
use crate::clock::ManualClock;
use crate::config::{ConfigError, JwtConfig};

const SECRET: &str = "unit-test-secret-of-at-least-64-bytes-so-that-hs512-accepts-it-too";
const NOW: u64 = 1_800_000_000;

fn setup(config: JwtConfig) -> (TokenCodec, ManualClock) {
    let clock = ManualClock::new(NOW);
    let codec = TokenCodec::with_clock(&config, Arc::new(clock.clone())).expect("valid config");
    (codec, clock)
}

fn guide() -> (TokenCodec, ManualClock) {
    setup(JwtConfig::simplejwt_guide(SECRET))
}

/// Signs any header and payload text with the HS256 test secret.
fn forge(header: &str, payload: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
    format!("{message}.{signature}")
}

fn forge_claims(claims: Value) -> String {
    forge(r#"{"alg":"HS256","typ":"JWT"}"#, &claims.to_string())
}

fn access_claims() -> Value {
    json!({"token_type": "access", "exp": NOW + 60, "iat": NOW, "jti": "0123456789abcdef0123456789abcdef", "user_id": "1"})
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

const ACCESS: Expected = Expected::Kind(TokenKind::Access);
const REFRESH: Expected = Expected::Kind(TokenKind::Refresh);

#[test]
fn minted_pair_has_the_contract_shape() {
    let (codec, _) = guide();
    let mut extra = Map::new();
    extra.insert("role".into(), json!("admin"));
    let pair = codec.mint_pair("1", &extra).unwrap();

    let header_text = URL_SAFE_NO_PAD
        .decode(pair.refresh.token.split('.').next().unwrap())
        .unwrap();
    assert_eq!(header_text, br#"{"alg":"HS256","typ":"JWT"}"#);

    let refresh = decode_part(&pair.refresh.token, 1);
    assert_eq!(refresh["token_type"], "refresh");
    assert_eq!(refresh["user_id"], json!("1"));
    assert_eq!(refresh["iat"], json!(NOW));
    assert_eq!(refresh["exp"], json!(NOW + 604_800));
    assert_eq!(refresh["role"], "admin");
    let jti = refresh["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 32);
    assert!(jti
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));

    let access = decode_part(&pair.access.token, 1);
    assert_eq!(access["token_type"], "access");
    assert_eq!(access["exp"], json!(NOW + 7200));
    assert_eq!(access["iat"], json!(NOW));
    assert_eq!(access["user_id"], json!("1"));
    assert_eq!(
        access["role"], "admin",
        "custom claims carry over to the access token"
    );
    assert_ne!(access["jti"], refresh["jti"]);
    let keys: Vec<_> = access.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
}

#[test]
fn successor_keeps_claims_with_new_id_and_times() {
    let (codec, clock) = guide();
    let mut extra = Map::new();
    extra.insert("role".into(), json!("admin"));
    let refresh = codec.mint_refresh("7", &extra).unwrap();
    clock.advance(Duration::from_secs(100));
    let successor = codec.mint_successor(&refresh.claims).unwrap();
    assert_ne!(successor.claims.jti, refresh.claims.jti);
    assert_eq!(successor.claims.iat, Some(NOW + 100));
    assert_eq!(successor.claims.exp, NOW + 100 + 604_800);
    assert_eq!(successor.claims.subject(), Some("7"));
    assert_eq!(successor.claims.extra["role"], "admin");
    assert_eq!(
        codec.verify(&successor.token, REFRESH).unwrap(),
        successor.claims
    );
}

#[test]
fn extra_claims_cannot_shadow_standard_ones() {
    let (codec, _) = guide();
    let mut extra = Map::new();
    for name in ["exp", "iat", "nbf", "jti", "token_type", "user_id"] {
        extra.insert(name.into(), json!("spoof"));
    }
    let pair = codec.mint_pair("1", &extra).unwrap();
    let claims = codec.verify(&pair.access.token, ACCESS).unwrap();
    assert!(claims.extra.is_empty(), "{:?}", claims.extra);
    assert_eq!(claims.subject(), Some("1"));
}

#[test]
fn verify_returns_the_minted_claims() {
    let (codec, _) = guide();
    let pair = codec.mint_pair("1", &Map::new()).unwrap();
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS).unwrap(),
        pair.access.claims
    );
    assert_eq!(
        codec.verify(&pair.refresh.token, REFRESH).unwrap(),
        pair.refresh.claims
    );
    assert!(codec.verify(&pair.refresh.token, Expected::Any).is_ok());
    assert!(codec.verify(&pair.access.token, Expected::Any).is_ok());
}

#[test]
fn token_type_rules() {
    let (codec, _) = guide();
    let pair = codec.mint_pair("1", &Map::new()).unwrap();
    assert_eq!(
        codec.verify(&pair.access.token, REFRESH),
        Err(TokenError::WrongType)
    );
    assert_eq!(
        codec.verify(&pair.refresh.token, ACCESS),
        Err(TokenError::WrongType)
    );
    let untyped = forge_claims(without(access_claims(), "token_type"));
    assert_eq!(codec.verify(&untyped, ACCESS), Err(TokenError::NoType));
    assert!(
        codec.verify(&untyped, Expected::Any).is_ok(),
        "verify accepts untyped tokens"
    );
    let numeric_type = forge_claims(with(access_claims(), "token_type", json!(1)));
    assert_eq!(
        codec.verify(&numeric_type, ACCESS),
        Err(TokenError::WrongType)
    );
    let sliding = forge_claims(with(access_claims(), "token_type", json!("sliding")));
    assert_eq!(codec.verify(&sliding, ACCESS), Err(TokenError::WrongType));
}

#[test]
fn missing_claims_messages() {
    let (codec, _) = guide();
    assert_eq!(
        codec.verify(&forge_claims(without(access_claims(), "jti")), ACCESS),
        Err(TokenError::NoId)
    );
    assert_eq!(
        codec.verify(&forge_claims(without(access_claims(), "exp")), ACCESS),
        Err(TokenError::NoExp)
    );
    assert_eq!(
        codec.verify(
            &forge_claims(without(access_claims(), "exp")),
            Expected::Any
        ),
        Err(TokenError::NoExp)
    );
    // The reference checks exp before jti before the type.
    let bare = json!({"user_id": "1"});
    assert_eq!(
        codec.verify(&forge_claims(bare), ACCESS),
        Err(TokenError::NoExp)
    );
    let only_exp = json!({"exp": NOW + 10});
    assert_eq!(
        codec.verify(&forge_claims(only_exp), ACCESS),
        Err(TokenError::NoId)
    );
    // Missing iat and user_id are not token errors.
    assert!(codec
        .verify(&forge_claims(without(access_claims(), "iat")), ACCESS)
        .is_ok());
    assert!(codec
        .verify(&forge_claims(without(access_claims(), "user_id")), ACCESS)
        .is_ok());
}

#[test]
fn expiry_at_the_boundary_second() {
    let (codec, clock) = guide();
    let pair = codec.mint_pair("1", &Map::new()).unwrap();
    clock.set(NOW + 7199);
    assert!(codec.verify(&pair.access.token, ACCESS).is_ok());
    clock.set(NOW + 7200);
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS),
        Err(TokenError::Expired),
        "exp == now is expired, as in PyJWT"
    );
    assert!(codec.verify(&pair.refresh.token, REFRESH).is_ok());
    clock.set(NOW + 604_800);
    assert_eq!(
        codec.verify(&pair.refresh.token, REFRESH),
        Err(TokenError::Expired)
    );
}

#[test]
fn leeway_applies_to_exp_nbf_and_iat() {
    let (codec, clock) =
        setup(JwtConfig::simplejwt_guide(SECRET).with_leeway(Duration::from_secs(30)));
    let pair = codec.mint_pair("1", &Map::new()).unwrap();
    clock.set(NOW + 7229);
    assert!(codec.verify(&pair.access.token, ACCESS).is_ok());
    clock.set(NOW + 7230);
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS),
        Err(TokenError::Expired)
    );

    clock.set(NOW);
    let nbf_at_edge = forge_claims(with(access_claims(), "nbf", json!(NOW + 30)));
    assert!(codec.verify(&nbf_at_edge, ACCESS).is_ok());
    let nbf_past_edge = forge_claims(with(access_claims(), "nbf", json!(NOW + 31)));
    assert_eq!(
        codec.verify(&nbf_past_edge, ACCESS),
        Err(TokenError::Invalid)
    );
    let iat_at_edge = forge_claims(with(access_claims(), "iat", json!(NOW + 30)));
    assert!(codec.verify(&iat_at_edge, ACCESS).is_ok());
    let iat_past_edge = forge_claims(with(access_claims(), "iat", json!(NOW + 31)));
    assert_eq!(
        codec.verify(&iat_past_edge, ACCESS),
        Err(TokenError::Invalid)
    );
}

#[test]
fn future_nbf_and_iat_are_invalid_without_leeway() {
    let (codec, _) = guide();
    assert!(codec
        .verify(
            &forge_claims(with(access_claims(), "nbf", json!(NOW))),
            ACCESS
        )
        .is_ok());
    assert_eq!(
        codec.verify(
            &forge_claims(with(access_claims(), "nbf", json!(NOW + 1))),
            ACCESS
        ),
        Err(TokenError::Invalid)
    );
    assert_eq!(
        codec.verify(
            &forge_claims(with(access_claims(), "iat", json!(NOW + 1))),
            ACCESS
        ),
        Err(TokenError::Invalid)
    );
    // A future iat wins over an expired exp, as in PyJWT's order of checks.
    let both = with(
        with(access_claims(), "iat", json!(NOW + 100)),
        "exp",
        json!(NOW - 100),
    );
    assert_eq!(
        codec.verify(&forge_claims(both), ACCESS),
        Err(TokenError::Invalid)
    );
}

#[test]
fn numeric_dates_edge_cases() {
    let (codec, _) = guide();
    let exp =
        |value: Value| codec.verify(&forge_claims(with(access_claims(), "exp", value)), ACCESS);
    assert!(
        exp(json!((NOW + 60) as f64 + 0.4)).is_ok(),
        "floats are rounded"
    );
    assert_eq!(
        exp(json!(NOW as f64 + 0.4)),
        Err(TokenError::Expired),
        "rounds down to now"
    );
    assert!(exp(json!(u64::MAX)).is_ok());
    assert_eq!(exp(json!(0)), Err(TokenError::Expired));
    for malformed in [
        json!(-1),
        json!(1e20),
        json!("1900000000"),
        json!(true),
        json!([1]),
        json!(null),
        json!({}),
    ] {
        assert_eq!(
            exp(malformed.clone()),
            Err(TokenError::Invalid),
            "exp = {malformed}"
        );
    }
    let iat =
        |value: Value| codec.verify(&forge_claims(with(access_claims(), "iat", value)), ACCESS);
    for malformed in [json!(-5), json!("5"), json!(null)] {
        assert_eq!(
            iat(malformed.clone()),
            Err(TokenError::Invalid),
            "iat = {malformed}"
        );
    }
    let huge_exp = format!(
        r#"{{"token_type":"access","exp":1{},"jti":"x"}}"#,
        "0".repeat(30)
    );
    assert_eq!(
        codec.verify(&forge(r#"{"alg":"HS256","typ":"JWT"}"#, &huge_exp), ACCESS),
        Err(TokenError::Invalid)
    );
    let non_text_jti = forge_claims(with(access_claims(), "jti", json!(5)));
    assert_eq!(
        codec.verify(&non_text_jti, ACCESS),
        Err(TokenError::Invalid)
    );
}

#[test]
fn algorithm_is_pinned() {
    let (codec, _) = guide();
    let claims = access_claims().to_string();
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"None"}"#,
        r#"{"alg":"HS512","typ":"JWT"}"#,
        r#"{"alg":"hs256","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"typ":"JWT"}"#,
        r#"{"alg":["HS256"]}"#,
    ] {
        // Signed with the right secret, but the header names another algorithm.
        assert_eq!(
            codec.verify(&forge(header, &claims), ACCESS),
            Err(TokenError::Invalid),
            "{header}"
        );
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(&claims)
    );
    assert_eq!(codec.verify(&unsigned, ACCESS), Err(TokenError::Invalid));
    // A kid that names none of our keys chooses nothing: the token is
    // checked with our key, and verifies. (URLs to fetch keys from refuse
    // the token: see `security_tests`.)
    let with_kid = forge(r#"{"alg":"HS256","typ":"JWT","kid":"other"}"#, &claims);
    assert!(codec.verify(&with_kid, ACCESS).is_ok());
}

#[test]
fn signature_and_shape() {
    let (codec, _) = guide();
    let good = forge_claims(access_claims());
    assert!(codec.verify(&good, ACCESS).is_ok());
    let other_key = {
        let (codec, _) = setup(JwtConfig::simplejwt_guide(
            "another-secret-of-at-least-32-bytes-long",
        ));
        codec.mint_pair("1", &Map::new()).unwrap().access.token
    };
    assert_eq!(codec.verify(&other_key, ACCESS), Err(TokenError::Invalid));
    let mut parts: Vec<&str> = good.split('.').collect();
    let tampered_payload =
        URL_SAFE_NO_PAD.encode(with(access_claims(), "user_id", json!("2")).to_string());
    parts[1] = &tampered_payload;
    assert_eq!(
        codec.verify(&parts.join("."), ACCESS),
        Err(TokenError::Invalid)
    );
    for bad in [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c.d",
        &format!("{good}."),
        &format!("{good}x"),
        &format!(".{good}"),
        "not a jwt at all",
    ] {
        assert_eq!(
            codec.verify(bad, ACCESS),
            Err(TokenError::Invalid),
            "{bad:?}"
        );
    }
}

#[test]
fn base64_variants_and_encodings_are_invalid() {
    let (codec, _) = guide();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let sign = |header_b64: String, payload_b64: String| {
        let message = format!("{header_b64}.{payload_b64}");
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{message}.{signature}")
    };
    // A payload whose encoding needs padding and uses '+' / '/' in the standard alphabet.
    let payload = with(access_claims(), "role", json!("a?>~~~")).to_string();
    assert!(codec
        .verify(
            &sign(
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(&payload)
            ),
            ACCESS
        )
        .is_ok());
    let padded = if payload.len().is_multiple_of(3) {
        format!("{payload} ")
    } else {
        payload.clone()
    };
    let standard = STANDARD.encode(&payload);
    assert!(URL_SAFE.encode(&padded).ends_with('='));
    assert!(standard.contains(['+', '/']), "{standard}");
    for payload_b64 in [URL_SAFE.encode(&padded), standard] {
        assert_eq!(
            codec.verify(
                &sign(URL_SAFE_NO_PAD.encode(header), payload_b64.clone()),
                ACCESS
            ),
            Err(TokenError::Invalid),
            "{payload_b64}"
        );
    }
    let with_bom = format!("\u{feff}{payload}");
    assert_eq!(
        codec.verify(
            &sign(
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(with_bom)
            ),
            ACCESS
        ),
        Err(TokenError::Invalid)
    );
    let utf16: Vec<u8> = payload.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(
        codec.verify(
            &sign(
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(utf16)
            ),
            ACCESS
        ),
        Err(TokenError::Invalid)
    );
    let non_utf8 = [
        br#"{"token_type":"access","x":""#.as_slice(),
        &[0xff, 0xfe],
        br#""}"#,
    ]
    .concat();
    assert_eq!(
        codec.verify(
            &sign(
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(non_utf8)
            ),
            ACCESS
        ),
        Err(TokenError::Invalid)
    );
}

#[test]
fn duplicate_claims_and_deep_nesting_are_invalid() {
    let (codec, _) = guide();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let duplicated = format!(
        r#"{{"token_type":"access","exp":{},"jti":"a","user_id":"1","user_id":"2"}}"#,
        NOW + 60
    );
    assert_eq!(
        codec.verify(&forge(header, &duplicated), ACCESS),
        Err(TokenError::Invalid)
    );
    let nested = format!(
        r#"{{"token_type":"access","exp":{},"jti":"a","deep":{}{}}}"#,
        NOW + 60,
        "[".repeat(200),
        "]".repeat(200)
    );
    assert_eq!(
        codec.verify(&forge(header, &nested), ACCESS),
        Err(TokenError::Invalid)
    );
    assert_eq!(
        codec.verify(&forge(header, "[1,2]"), ACCESS),
        Err(TokenError::Invalid)
    );
}

#[test]
fn oversized_tokens_are_invalid_unread() {
    let (codec, _) = guide();
    let big = with(access_claims(), "pad", json!("x".repeat(9000)));
    assert_eq!(
        codec.verify(&forge_claims(big), ACCESS),
        Err(TokenError::Invalid)
    );
    assert_eq!(
        codec.verify(&"a".repeat(1 << 20), ACCESS),
        Err(TokenError::Invalid)
    );
}

#[test]
fn audience_and_issuer_are_minted_and_required() {
    let (codec, _) = setup(
        JwtConfig::simplejwt_guide(SECRET)
            .with_audience("web")
            .with_issuer("https://auth.example"),
    );
    let pair = codec.mint_pair("1", &Map::new()).unwrap();
    let payload = decode_part(&pair.access.token, 1);
    assert_eq!(payload["aud"], "web");
    assert_eq!(payload["iss"], "https://auth.example");
    assert!(codec.verify(&pair.access.token, ACCESS).is_ok());
    let in_list = with(
        with(access_claims(), "aud", json!(["other", "web"])),
        "iss",
        json!("https://auth.example"),
    );
    assert!(codec.verify(&forge_claims(in_list), ACCESS).is_ok());
    for claims in [
        access_claims(),
        with(
            with(access_claims(), "aud", json!("other")),
            "iss",
            json!("https://auth.example"),
        ),
        with(
            with(access_claims(), "aud", json!("web")),
            "iss",
            json!("https://evil.example"),
        ),
        with(access_claims(), "aud", json!("web")),
    ] {
        assert_eq!(
            codec.verify(&forge_claims(claims.clone()), ACCESS),
            Err(TokenError::Invalid),
            "{claims}"
        );
    }
    // Without a configured audience, a token's `aud` is not checked (as in simplejwt).
    let (plain, _) = guide();
    assert!(plain
        .verify(
            &forge_claims(with(access_claims(), "aud", json!("x"))),
            ACCESS
        )
        .is_ok());
}

#[test]
fn custom_claim_names() {
    let mut config = JwtConfig::simplejwt_guide(SECRET);
    config.user_id_claim = "sub".into();
    config.token_type_claim = "typ".into();
    config.jti_claim = "id".into();
    let (codec, _) = setup(config);
    let pair = codec.mint_pair("42", &Map::new()).unwrap();
    let payload = decode_part(&pair.access.token, 1);
    assert_eq!(payload["sub"], "42");
    assert_eq!(payload["typ"], "access");
    assert!(payload["id"].is_string());
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS).unwrap().subject(),
        Some("42")
    );
    assert_eq!(
        codec.verify(&forge_claims(access_claims()), ACCESS),
        Err(TokenError::NoId)
    );
}

#[test]
fn extra_claims_as_a_type() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Extra {
        role: String,
    }
    let (codec, _) = guide();
    let mut extra = Map::new();
    extra.insert("role".into(), json!("admin"));
    let pair = codec.mint_pair("1", &extra).unwrap();
    let claims = codec
        .verify(&pair.access.token, ACCESS)
        .unwrap()
        .extra_as::<Extra>()
        .unwrap();
    assert_eq!(
        claims.extra,
        Extra {
            role: "admin".into()
        }
    );
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn round_trip_per_algorithm() {
    let hmac = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
    for algorithm in hmac {
        let (codec, _) = setup(JwtConfig::simplejwt_guide("s").with_hmac(algorithm, SECRET));
        let pair = codec.mint_pair("1", &Map::new()).unwrap();
        assert_eq!(
            decode_part(&pair.access.token, 0),
            json!({"alg": format!("{algorithm:?}"), "typ": "JWT"})
        );
        assert!(
            codec.verify(&pair.access.token, ACCESS).is_ok(),
            "{algorithm:?}"
        );
    }
    let asymmetric = [
        (Algorithm::RS256, "rsa"),
        (Algorithm::RS384, "rsa"),
        (Algorithm::RS512, "rsa"),
        (Algorithm::PS256, "rsa"),
        (Algorithm::PS384, "rsa"),
        (Algorithm::PS512, "rsa"),
        (Algorithm::ES256, "ec256"),
        (Algorithm::ES384, "ec384"),
        (Algorithm::EdDSA, "ed25519"),
    ];
    for (algorithm, key) in asymmetric {
        let config = JwtConfig::simplejwt_guide("unused").with_key_pair(
            algorithm,
            fixture(&format!("{key}_private.pem")),
            fixture(&format!("{key}_public.pem")),
        );
        let (codec, _) = setup(config);
        let pair = codec.mint_pair("1", &Map::new()).unwrap();
        assert_eq!(
            decode_part(&pair.refresh.token, 0)["alg"],
            format!("{algorithm:?}")
        );
        assert!(
            codec.verify(&pair.refresh.token, REFRESH).is_ok(),
            "{algorithm:?}"
        );
        assert_eq!(
            codec.verify(&pair.access.token, REFRESH),
            Err(TokenError::WrongType)
        );
    }
}

#[test]
fn hmac_secret_equal_to_public_key_is_not_confusable() {
    // An attacker signs HS256 with the server's RSA public key as the secret.
    let public_pem = fixture("rsa_public.pem");
    let config = JwtConfig::simplejwt_guide("unused").with_key_pair(
        Algorithm::RS256,
        fixture("rsa_private.pem"),
        public_pem.clone(),
    );
    let (codec, _) = setup(config);
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(access_claims().to_string())
    );
    let key = EncodingKey::from_secret(public_pem.as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
    assert_eq!(
        codec.verify(&format!("{message}.{signature}"), ACCESS),
        Err(TokenError::Invalid)
    );
}

#[test]
fn invalid_configurations_are_refused_at_construction() {
    let build = |config: JwtConfig| TokenCodec::new(&config).map(|_| ()).unwrap_err();
    assert_eq!(build(JwtConfig::new("")), ConfigError::EmptySecret);
    assert!(matches!(
        build(JwtConfig::new(fixture("rsa_private.pem"))),
        ConfigError::PemKeyForHmac(Algorithm::HS256)
    ));
    assert_eq!(
        build(JwtConfig::new("s").with_access_token_lifetime(Duration::ZERO)),
        ConfigError::Zero("access_token_lifetime")
    );
    // Without a verifying key, the public key is derived from the private one.
    let mut no_public = JwtConfig::new(fixture("ec256_private.pem"));
    no_public.algorithm = Algorithm::ES256;
    let (derived, _) = setup(no_public);
    let token = derived.mint_pair("1", &Map::new()).unwrap().access.token;
    assert!(derived.verify(&token, ACCESS).is_ok());
    let mismatched = JwtConfig::new("x").with_key_pair(
        Algorithm::ES256,
        fixture("ec256_private.pem"),
        fixture("ec384_public.pem"),
    );
    assert!(matches!(
        build(mismatched),
        ConfigError::InvalidKey(Algorithm::ES256, _)
    ));
    let wrong_family = JwtConfig::new("x").with_key_pair(
        Algorithm::RS256,
        fixture("ec256_private.pem"),
        fixture("ec256_public.pem"),
    );
    assert!(matches!(
        build(wrong_family),
        ConfigError::InvalidKey(Algorithm::RS256, _)
    ));
    let garbage = JwtConfig::new("x").with_key_pair(Algorithm::EdDSA, "not a pem", "not a pem");
    assert!(matches!(
        build(garbage),
        ConfigError::InvalidKey(Algorithm::EdDSA, _)
    ));
}

#[test]
fn expiry_takes_precedence_over_later_checks_except_when_allowed() {
    let (codec, _) = guide();
    let expired_without_jti = without(with(access_claims(), "exp", json!(NOW - 1)), "jti");
    let token = forge_claims(expired_without_jti);
    assert_eq!(codec.verify(&token, ACCESS), Err(TokenError::Expired));
    assert_eq!(
        codec
            .verify_even_if_expired(&token, ACCESS)
            .map(|v| v.expired),
        Err(TokenError::NoId)
    );
    let expired = forge_claims(with(access_claims(), "exp", json!(NOW)));
    let verified = codec.verify_even_if_expired(&expired, ACCESS).unwrap();
    assert!(verified.expired);
    assert_eq!(
        codec.verify_even_if_expired(&expired, REFRESH),
        Err(TokenError::WrongType)
    );
    assert!(
        !codec
            .verify_even_if_expired(&forge_claims(access_claims()), ACCESS)
            .unwrap()
            .expired
    );
}

#[test]
fn cached_asymmetric_tokens_still_follow_every_rule() {
    let config = JwtConfig::simplejwt_guide("unused").with_key_pair(
        Algorithm::ES256,
        fixture("ec256_private.pem"),
        fixture("ec256_public.pem"),
    );
    let (codec, clock) = setup(config);
    let pair = codec.mint_pair("1", &Map::new()).unwrap();
    assert!(codec.verify(&pair.access.token, ACCESS).is_ok());
    assert_eq!(
        codec.remembered_tokens(),
        1,
        "an asymmetric signature is worth remembering at once"
    );
    assert!(
        codec.verify(&pair.access.token, ACCESS).is_ok(),
        "a cache hit"
    );
    assert_eq!(
        codec.verify(&pair.access.token, REFRESH),
        Err(TokenError::WrongType),
        "types are checked on hits"
    );
    let mut tampered = pair.access.token.clone();
    tampered.pop();
    tampered.push(if pair.access.token.ends_with('A') {
        'B'
    } else {
        'A'
    });
    assert_eq!(
        codec.verify(&tampered, ACCESS),
        Err(TokenError::Invalid),
        "another token is another key"
    );
    clock.advance(Duration::from_secs(7200));
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS),
        Err(TokenError::Expired),
        "expiry is checked on hits"
    );
    codec.forget_verified_tokens();
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS),
        Err(TokenError::Expired)
    );
}

#[test]
fn hmac_tokens_are_remembered_until_the_keys_change() {
    let (codec, clock) = setup(JwtConfig::simplejwt_guide(SECRET));
    let pair = codec.mint_pair("1", &Map::new()).unwrap();
    assert_eq!(
        codec.verify(&pair.refresh.token, REFRESH).unwrap().jti,
        pair.refresh.claims.jti
    );
    assert_eq!(
        codec.remembered_tokens(),
        0,
        "refresh tokens are presented once: not remembered"
    );

    for _ in 0..2 {
        assert_eq!(
            codec.verify(&pair.refresh.token, REFRESH).unwrap().jti,
            pair.refresh.claims.jti
        );
    }
    assert_eq!(codec.remembered_tokens(), 0, "not even when replayed");

    let first = codec.verify(&pair.access.token, ACCESS).unwrap();
    assert_eq!(
        codec.remembered_tokens(),
        0,
        "an HMAC token is remembered on its second use"
    );
    assert_eq!(codec.verify(&pair.access.token, ACCESS).unwrap(), first);
    assert_eq!(codec.remembered_tokens(), 1);
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS).unwrap(),
        first,
        "a hit gives the same claims"
    );
    assert_eq!(codec.remembered_tokens(), 1, "a hit adds nothing");
    assert_eq!(
        codec.verify(&pair.access.token, REFRESH),
        Err(TokenError::WrongType)
    );

    // A token under a retired key is refused even though it was remembered.
    let next =
        crate::keys::Key::from_secret(Algorithm::HS256, "another secret of at least 32 bytes")
            .unwrap();
    codec.set_key_set(crate::keys::KeySet::new(next, []).unwrap());
    assert_eq!(codec.remembered_tokens(), 0);
    assert_eq!(
        codec.verify(&pair.access.token, ACCESS),
        Err(TokenError::Invalid)
    );
    assert_eq!(
        codec.remembered_tokens(),
        0,
        "a refused token is not remembered"
    );

    // Expiry is checked on every hit, against the clock.
    let fresh = codec.mint_pair("1", &Map::new()).unwrap().access.token;
    for _ in 0..3 {
        assert!(codec.verify(&fresh, ACCESS).is_ok());
    }
    assert_eq!(codec.remembered_tokens(), 1);
    clock.advance(Duration::from_secs(7200));
    assert_eq!(codec.verify(&fresh, ACCESS), Err(TokenError::Expired));
}

#[test]
fn no_cache_when_its_capacity_is_zero() {
    let config = JwtConfig {
        verified_token_cache_capacity: 0,
        ..JwtConfig::simplejwt_guide(SECRET)
    };
    let (codec, _clock) = setup(config);
    let access = codec.mint_pair("1", &Map::new()).unwrap().access.token;
    assert!(codec.verify(&access, ACCESS).is_ok());
    assert!(codec.verify(&access, ACCESS).is_ok());
    assert_eq!(codec.remembered_tokens(), 0);
}
