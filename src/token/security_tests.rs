//! The codec's side of the token security rules: one rule per JOSE header
//! parameter on every verifying entry point and key kind, and the
//! verified-token cache across a key rotation.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

use super::TokenError;
use super::*;
use crate::clock::ManualClock;
use crate::config::JwtConfig;
use crate::keys::{Key, KeySet};

const SECRET: &str = "security-test-secret-of-at-least-32-bytes";
const NOW: u64 = 1_800_000_000;
const ACCESS: Expected = Expected::Kind(TokenKind::Access);
const REFRESH: Expected = Expected::Kind(TokenKind::Refresh);

/// Headers refused whatever the signature, each with the rule that refuses it.
const REFUSED_HEADERS: &[(&str, &str)] = &[
    (
        "crit naming an unknown extension",
        r#"{"alg":"HS256","typ":"JWT","crit":["x-unknown"],"x-unknown":true}"#,
    ),
    (
        "crit naming a registered name",
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
    ),
    ("crit empty", r#"{"alg":"HS256","typ":"JWT","crit":[]}"#),
    (
        "crit not a list",
        r#"{"alg":"HS256","typ":"JWT","crit":"x-unknown"}"#,
    ),
    ("crit null", r#"{"alg":"HS256","typ":"JWT","crit":null}"#),
    (
        "crit first",
        r#"{"crit":["x-unknown"],"alg":"HS256","typ":"JWT","x-unknown":1}"#,
    ),
    (
        "crit escaped",
        r#"{"alg":"HS256","typ":"JWT","\u0063rit":["x"],"x":1}"#,
    ),
    ("crit twice", r#"{"alg":"HS256","crit":["x"],"crit":[]}"#),
    (
        "b64 false",
        r#"{"alg":"HS256","typ":"JWT","b64":false,"crit":["b64"]}"#,
    ),
    ("b64 true", r#"{"alg":"HS256","typ":"JWT","b64":true}"#),
    (
        "jku",
        r#"{"alg":"HS256","typ":"JWT","jku":"https://attacker.example/jwks.json"}"#,
    ),
    (
        "x5u",
        r#"{"alg":"HS256","typ":"JWT","x5u":"https://attacker.example/cert.pem"}"#,
    ),
    (
        "jwk",
        r#"{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"YXR0YWNrZXI"}}"#,
    ),
    (
        "x5c",
        r#"{"alg":"HS256","typ":"JWT","x5c":["MIIBszCCAVmgAwIBAgIU"]}"#,
    ),
    ("enc", r#"{"alg":"HS256","typ":"JWT","enc":"A256GCM"}"#),
    ("zip", r#"{"alg":"HS256","typ":"JWT","zip":"DEF"}"#),
    ("epk", r#"{"alg":"HS256","epk":{"kty":"EC"}}"#),
    ("apu", r#"{"alg":"HS256","apu":"QWxpY2U"}"#),
    ("apv", r#"{"alg":"HS256","apv":"Qm9i"}"#),
    ("iv", r#"{"alg":"HS256","iv":"AAAA"}"#),
    ("tag", r#"{"alg":"HS256","tag":"AAAA"}"#),
    ("p2s", r#"{"alg":"HS256","p2s":"AAAA"}"#),
    ("p2c", r#"{"alg":"HS256","p2c":4096}"#),
    ("alg twice", r#"{"alg":"HS256","alg":"HS256"}"#),
    (
        "an unregistered name twice",
        r#"{"alg":"HS256","x":1,"x":1}"#,
    ),
    ("kid null", r#"{"alg":"HS256","kid":null}"#),
    ("kid a number", r#"{"alg":"HS256","kid":1}"#),
    ("typ a number", r#"{"alg":"HS256","typ":1}"#),
    ("no alg", r#"{"typ":"JWT"}"#),
    ("alg none", r#"{"alg":"none"}"#),
    ("another HMAC alg", r#"{"alg":"HS512","typ":"JWT"}"#),
];

/// Headers whose parameters are ignored (or used, for `kid`): the token verifies.
const ACCEPTED_HEADERS: &[(&str, &str)] = &[
    ("the contract's header", r#"{"alg":"HS256","typ":"JWT"}"#),
    ("alg alone", r#"{"alg":"HS256"}"#),
    (
        "an unknown kid",
        r#"{"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"}"#,
    ),
    ("cty", r#"{"alg":"HS256","typ":"JWT","cty":"JWT"}"#),
    ("typ null", r#"{"alg":"HS256","typ":null}"#),
    (
        "x5t and x5t#S256",
        r#"{"alg":"HS256","typ":"JWT","x5t":"dGh1bWI","x5t#S256":"dGh1bWI"}"#,
    ),
    (
        "url and nonce",
        r#"{"alg":"HS256","url":"https://a.example/","nonce":"n"}"#,
    ),
    (
        "iss, sub and aud",
        r#"{"alg":"HS256","iss":"x","sub":"2","aud":["y"]}"#,
    ),
    ("ppt and svt", r#"{"alg":"HS256","ppt":"shaken","svt":"x"}"#),
    (
        "unregistered names",
        r#"{"alg":"HS256","x-unknown":true,"Crit":["x"],"CRIT":1}"#,
    ),
];

fn sign_with(header: &str, claims: &Value, key: &EncodingKey, algorithm: Algorithm) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, algorithm).unwrap();
    format!("{message}.{signature}")
}

fn forge(header: &str, claims: &Value) -> String {
    sign_with(
        header,
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
}

fn claims(kind: &str, exp: u64) -> Value {
    json!({"token_type": kind, "exp": exp, "iat": NOW, "jti": format!("{:032x}", rand::random::<u128>()), "user_id": "1"})
}

fn hmac_codec() -> (TokenCodec, ManualClock) {
    let clock = ManualClock::new(NOW);
    let codec =
        TokenCodec::with_clock(&JwtConfig::simplejwt_guide(SECRET), Arc::new(clock.clone()))
            .unwrap();
    (codec, clock)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Every way the codec verifies: each entry point and expectation, three
/// times (so a token that the cache would remember is looked up too).
fn every_verification(
    codec: &TokenCodec,
    token: &str,
    kind: Expected,
) -> Vec<Result<(), TokenError>> {
    let mut results = Vec::new();
    for _ in 0..3 {
        results.push(codec.verify(token, kind).map(drop));
        results.push(codec.verify(token, Expected::Any).map(drop));
        results.push(codec.verify_even_if_expired(token, kind).map(drop));
        results.push(codec.decode_unvalidated(token).map(drop));
    }
    results
}

#[test]
fn every_header_rule_on_every_entry_point() {
    for (kind, expected) in [("access", ACCESS), ("refresh", REFRESH)] {
        for (why, header) in REFUSED_HEADERS {
            let (codec, _) = hmac_codec();
            let token = forge(header, &claims(kind, NOW + 60));
            for result in every_verification(&codec, &token, expected) {
                assert_eq!(result, Err(TokenError::Invalid), "{why} ({kind}): {header}");
            }
            assert_eq!(codec.remembered_tokens(), 0, "{why}: never remembered");
            // Expired too: refused as invalid, never reported as merely expired.
            let expired = forge(header, &claims(kind, NOW - 1));
            assert_eq!(
                codec.verify(&expired, expected),
                Err(TokenError::Invalid),
                "{why}"
            );
            assert_eq!(
                codec
                    .verify_even_if_expired(&expired, expected)
                    .map(|verified| verified.expired),
                Err(TokenError::Invalid),
                "{why}: automatic refresh must not take it"
            );
        }
        for (why, header) in ACCEPTED_HEADERS {
            let (codec, _) = hmac_codec();
            let token = forge(header, &claims(kind, NOW + 60));
            for result in every_verification(&codec, &token, expected) {
                assert_eq!(result, Ok(()), "{why} ({kind}): {header}");
            }
        }
    }
}

#[test]
fn header_rules_hold_for_asymmetric_and_verify_only_keys() {
    let private = fixture("ec256_private.pem");
    let signing = EncodingKey::from_ec_pem(private.as_bytes()).unwrap();
    let config = JwtConfig::simplejwt_guide(SECRET).with_key_pair(
        Algorithm::ES256,
        private.clone(),
        fixture("ec256_public.pem"),
    );
    let clock = Arc::new(ManualClock::new(NOW));
    let signer = TokenCodec::with_clock(&config, clock.clone()).unwrap();
    // The verify-only form remote issuers use: the public key alone.
    let public = Key::from_pem(Algorithm::ES256, None, Some(&fixture("ec256_public.pem"))).unwrap();
    let verifier =
        TokenCodec::with_key_set(&config, KeySet::verify_only([public]).unwrap(), clock).unwrap();
    let es256 = |header: &str| header.replace("HS256", "ES256");
    for codec in [&signer, &verifier] {
        for (why, header) in REFUSED_HEADERS {
            let token = sign_with(
                &es256(header),
                &claims("access", NOW + 60),
                &signing,
                Algorithm::ES256,
            );
            for result in every_verification(codec, &token, ACCESS) {
                assert_eq!(result, Err(TokenError::Invalid), "{why}: {header}");
            }
        }
        for (why, header) in ACCEPTED_HEADERS {
            let token = sign_with(
                &es256(header),
                &claims("access", NOW + 60),
                &signing,
                Algorithm::ES256,
            );
            for result in every_verification(codec, &token, ACCESS) {
                assert_eq!(result, Ok(()), "{why}: {header}");
            }
        }
    }
    assert_eq!(
        signer.remembered_tokens(),
        ACCEPTED_HEADERS.len(),
        "only accepted tokens are remembered"
    );
}

#[test]
fn jwe_and_other_shapes_are_refused() {
    let (codec, _) = hmac_codec();
    let good = forge(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims("access", NOW + 60),
    );
    assert!(codec.verify(&good, ACCESS).is_ok());
    let jwe_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256GCM"}"#);
    for token in [
        // A compact JWE: header, encrypted key, IV, ciphertext, tag.
        format!(
            "{jwe_header}..AAAAAAAAAAAAAAAA.{}.AAAAAAAAAAAAAAAAAAAAAA",
            URL_SAFE_NO_PAD.encode("x")
        ),
        format!("{jwe_header}.{}", good.split_once('.').unwrap().1),
        format!("{good}.AAAA.AAAA"),
    ] {
        assert_eq!(
            codec.verify(&token, Expected::Any),
            Err(TokenError::Invalid),
            "{token}"
        );
    }
}

#[test]
fn the_codec_s_own_header_is_never_parsed_differently() {
    // Our own tokens take the fast path (header compared byte for byte);
    // the same header re-encoded otherwise goes through the rules and verifies.
    let (codec, _) = hmac_codec();
    let minted = codec.mint_pair("1", &Map::new()).unwrap().access.token;
    let payload = minted.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let spaced = forge(r#"{ "typ": "JWT", "alg": "HS256" }"#, &claims);
    assert_eq!(codec.verify(&spaced, ACCESS), codec.verify(&minted, ACCESS));
}

/// A key set of one HS256 key with this secret.
fn hmac_set(secret: &str) -> KeySet {
    KeySet::new(Key::from_secret(Algorithm::HS256, secret).unwrap(), []).unwrap()
}

/// Verifies `token` with `in_flight` verifications of it between their
/// signature check and their cache insertion at once (each one's pause
/// starts the next), and retires the keys while all of them are paused.
/// Returns what the outermost verification answered.
fn verify_across_a_rotation(
    codec: &TokenCodec,
    token: &str,
    in_flight: usize,
) -> Result<(), TokenError> {
    fn pause(codec: TokenCodec, token: String, remaining: usize) {
        let paused = codec.clone();
        codec.before_cache_insert(move || {
            if remaining == 0 {
                paused.set_key_set(hmac_set("the next secret, 32 bytes or more, random"));
            } else {
                pause(paused.clone(), token.clone(), remaining - 1);
                assert!(
                    paused.verify(&token, ACCESS).is_ok(),
                    "this verification too began before the rotation"
                );
            }
        });
    }
    pause(codec.clone(), token.to_owned(), in_flight - 1);
    codec.verify(token, ACCESS).map(drop)
}

#[test]
fn a_rotation_between_verification_and_cache_insertion_leaves_nothing_behind() {
    let es256 = JwtConfig::simplejwt_guide(SECRET).with_key_pair(
        Algorithm::ES256,
        fixture("ec256_private.pem"),
        fixture("ec256_public.pem"),
    );
    // An asymmetric token is remembered on its first use, so one verification
    // in flight is enough; an HMAC token on its second use, and a rotation
    // also forgets which tokens were seen once, so it takes two in flight
    // (the first insertion marks it seen, the second would remember it).
    for (config, in_flight) in [(es256, 1), (JwtConfig::simplejwt_guide(SECRET), 2)] {
        let codec = TokenCodec::with_clock(&config, Arc::new(ManualClock::new(NOW))).unwrap();
        let retired = codec.mint_pair("1", &Map::new()).unwrap().access.token;
        if in_flight == 2 {
            assert!(codec.verify(&retired, ACCESS).is_ok(), "seen once");
            assert_eq!(codec.remembered_tokens(), 0);
        }
        assert_eq!(
            verify_across_a_rotation(&codec, &retired, in_flight),
            Ok(()),
            "these verifications began before the rotation"
        );
        assert_eq!(
            codec.remembered_tokens(),
            0,
            "nothing verified with retired keys is remembered ({:?})",
            config.algorithm
        );
        // And the attacker keeps using the token: refused every time, cached never.
        for _ in 0..3 {
            assert_eq!(codec.verify(&retired, ACCESS), Err(TokenError::Invalid));
        }
        assert_eq!(codec.remembered_tokens(), 0);
        // The cache still works for the new keys.
        let current = codec.mint_pair("1", &Map::new()).unwrap().access.token;
        for _ in 0..2 {
            assert!(codec.verify(&current, ACCESS).is_ok());
        }
        assert_eq!(codec.remembered_tokens(), 1, "the new generation is cached");
    }
}

#[test]
fn a_key_set_taken_from_another_codec_keeps_the_cache_working() {
    let (first, _) = hmac_codec();
    first.set_key_set(hmac_set(SECRET));
    first.set_key_set(hmac_set(SECRET));
    // Generation 2 in `first`; a new codec starts its own count.
    let clock = Arc::new(ManualClock::new(NOW));
    let second = TokenCodec::with_key_set(
        &JwtConfig::simplejwt_guide(SECRET),
        (*first.key_set()).clone(),
        clock,
    )
    .unwrap();
    let token = second.mint_pair("1", &Map::new()).unwrap().access.token;
    for _ in 0..2 {
        assert!(second.verify(&token, ACCESS).is_ok());
    }
    assert_eq!(second.remembered_tokens(), 1);
}
