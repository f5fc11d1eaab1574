//! Key sets: kids in headers, rotation without a failed request, and the
//! published JWKS as the only thing an independent verifier needs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use tower_simplejwt::config::{ConfigError, JwtConfig};
use tower_simplejwt::keys::{min_secret_bytes, Key, KeySet};
use tower_simplejwt::token::TokenError;
use tower_simplejwt::token::{Expected, TokenCodec};
use tower_simplejwt::{Algorithm, BuildError, Jwt};

/// An HS256 secret of the required length (32 bytes or more).
const SECRET: &str = "keys-test-secret-of-at-least-32-bytes";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap()
}

fn asymmetric(algorithm: Algorithm) -> Key {
    let name = match algorithm {
        Algorithm::ES256 => "ec256",
        Algorithm::ES384 => "ec384",
        Algorithm::EdDSA => "ed25519",
        _ => "rsa",
    };
    Key::from_pem(
        algorithm,
        Some(&fixture(&format!("{name}_private.pem"))),
        None,
    )
    .unwrap()
}

#[test]
fn headers_carry_the_kid_of_asymmetric_keys_and_hmac_stays_exact() {
    let hmac = TokenCodec::new(&JwtConfig::new(SECRET)).unwrap();
    let token = hmac.mint_pair("1", &Map::new()).unwrap().access.token;
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
        br#"{"alg":"HS256","typ":"JWT"}"#
    );

    let mut with_kid = JwtConfig::new(SECRET);
    with_kid.key_id = Some("k1".into());
    let token = TokenCodec::new(&with_kid)
        .unwrap()
        .mint_pair("1", &Map::new())
        .unwrap()
        .access
        .token;
    assert_eq!(
        header_of(&token),
        json!({"alg": "HS256", "typ": "JWT", "kid": "k1"})
    );

    for algorithm in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let codec = TokenCodec::new(&JwtConfig::new(SECRET)).unwrap();
        codec.set_key_set(KeySet::new(asymmetric(algorithm), []).unwrap());
        let token = codec.mint_pair("1", &Map::new()).unwrap().access.token;
        let header = header_of(&token);
        assert_eq!(header["alg"], format!("{algorithm:?}"));
        let thumbprint = codec.key_set().signing_key().unwrap().thumbprint().unwrap();
        assert_eq!(
            header["kid"], thumbprint,
            "{algorithm:?}: the thumbprint is the default kid"
        );
        assert!(codec.verify(&token, Expected::Any).is_ok(), "{algorithm:?}");
    }
}

#[test]
fn rotation_keeps_old_tokens_until_their_key_is_retired() {
    let codec = TokenCodec::new(&JwtConfig::new(SECRET)).unwrap();
    let old = asymmetric(Algorithm::ES256).with_kid("2026-10");
    codec.set_key_set(KeySet::new(old.clone(), []).unwrap());
    let before = codec.mint_pair("1", &Map::new()).unwrap().access.token;

    // Step 1: the new key is added as verify-only; step 2: it signs.
    let new = asymmetric(Algorithm::EdDSA).with_kid("2026-11");
    codec.set_key_set(KeySet::new(old.clone(), [new.clone()]).unwrap());
    codec.set_key_set(KeySet::new(new.clone(), [old]).unwrap());
    let after = codec.mint_pair("1", &Map::new()).unwrap().access.token;
    assert_eq!(header_of(&after)["kid"], "2026-11");
    assert!(
        codec.verify(&before, Expected::Any).is_ok(),
        "old tokens verify until their key is retired"
    );
    assert!(codec.verify(&after, Expected::Any).is_ok());

    // Step 3: the old key is retired.
    codec.set_key_set(KeySet::new(new, []).unwrap());
    assert_eq!(
        codec.verify(&before, Expected::Any),
        Err(TokenError::Invalid)
    );
    assert!(codec.verify(&after, Expected::Any).is_ok());
}

#[test]
fn no_verification_fails_while_keys_rotate() {
    let codec = TokenCodec::new(&JwtConfig::new(SECRET)).unwrap();
    let first = Key::from_secret(Algorithm::HS256, &"first ".repeat(8))
        .unwrap()
        .with_kid("a");
    let second = Key::from_secret(Algorithm::HS384, &"second ".repeat(8))
        .unwrap()
        .with_kid("b");
    codec.set_key_set(KeySet::new(first.clone(), [second.clone()]).unwrap());
    let token = codec.mint_pair("1", &Map::new()).unwrap().access.token;
    let stop = Arc::new(AtomicBool::new(false));
    let (verified, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (codec, token, stop, verified, failed) = (
                codec.clone(),
                token.clone(),
                stop.clone(),
                verified.clone(),
                failed.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match codec.verify(&token, Expected::Any) {
                        Ok(_) => verified.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    // Swap the signing key back and forth; the token's key stays in every set.
    for round in 0..2_000 {
        let set = if round % 2 == 0 {
            KeySet::new(second.clone(), [first.clone()])
        } else {
            KeySet::new(first.clone(), [second.clone()])
        };
        codec.set_key_set(set.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    assert!(verified.load(Ordering::Relaxed) > 0);
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "no verification failed during the swaps"
    );
}

#[test]
fn an_independent_verifier_needs_only_the_published_jwks() {
    for algorithm in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let codec = TokenCodec::new(&JwtConfig::new(SECRET)).unwrap();
        let hmac = Key::from_secret(Algorithm::HS256, &"never published ".repeat(2))
            .unwrap()
            .with_kid("secret");
        codec.set_key_set(KeySet::new(asymmetric(algorithm).with_kid("signing"), [hmac]).unwrap());
        let token = codec.mint_pair("1", &Map::new()).unwrap().access.token;

        // What a verifier downloads from /.well-known/jwks.json.
        let published = serde_json::to_string(&codec.key_set().jwks()).unwrap();
        assert!(
            !published.contains("\"oct\""),
            "HMAC secrets are never published: {published}"
        );
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&published).unwrap();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        let jwk = jwks.find(&kid).expect("the token's kid is in the JWKS");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(algorithm);
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .expect("jsonwebtoken verifies with the JWK");
        assert_eq!(claims.claims["user_id"], "1", "{algorithm:?}");

        // And a key loaded from our own JWK verifies too.
        let from_jwk = Key::from_jwk(jwk).unwrap();
        assert_eq!(from_jwk.kid(), Some("signing"));
        assert!(!from_jwk.can_sign());
    }
}

#[test]
fn key_sets_refuse_what_cannot_work() {
    let public_only =
        Key::from_pem(Algorithm::ES256, None, Some(&fixture("ec256_public.pem"))).unwrap();
    assert!(
        KeySet::new(public_only, []).is_err(),
        "a public key cannot sign"
    );
    let a = Key::from_secret(Algorithm::HS256, &"a".repeat(32))
        .unwrap()
        .with_kid("same");
    let b = Key::from_secret(Algorithm::HS256, &"b".repeat(32))
        .unwrap()
        .with_kid("same");
    assert!(KeySet::new(a, [b]).is_err(), "two keys under one kid");
}

#[test]
fn short_hmac_secrets_fail_to_build() {
    for (algorithm, minimum) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let short = "k".repeat(minimum - 1);
        let refused = ConfigError::SecretTooShort {
            algorithm,
            length: minimum - 1,
            minimum,
        };
        let config = JwtConfig::simplejwt_guide("unused").with_hmac(algorithm, short.as_str());
        assert_eq!(TokenCodec::new(&config).unwrap_err(), refused);
        assert_eq!(
            Jwt::builder(config).build().unwrap_err(),
            BuildError::Config(refused.clone()),
            "the whole stack refuses to build"
        );
        assert_eq!(Key::from_secret(algorithm, &short).unwrap_err(), refused);
        assert_eq!(min_secret_bytes(algorithm), Some(minimum));

        let enough = "k".repeat(minimum);
        let config = JwtConfig::simplejwt_guide("unused").with_hmac(algorithm, enough.as_str());
        assert!(TokenCodec::new(&config).is_ok(), "{algorithm:?}");
    }
    // Bytes, not characters: eleven three-byte characters are 33 bytes.
    assert!(Key::from_secret(Algorithm::HS256, &"€".repeat(11)).is_ok());
    assert!(Key::from_secret(Algorithm::HS256, &"€".repeat(10)).is_err());
    // The message says what to do.
    let message = TokenCodec::new(&JwtConfig::new("change-me"))
        .unwrap_err()
        .to_string();
    for needed in [
        "HS256",
        "9 bytes",
        "at least 32 bytes",
        "openssl rand -hex 32",
    ] {
        assert!(message.contains(needed), "{needed:?} in {message}");
    }
}
