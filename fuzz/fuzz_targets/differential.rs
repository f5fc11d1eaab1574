//! Differential verification against plain `jsonwebtoken::decode` with the
//! same key: over signed, fuzzer-chosen headers and payloads, both accept or
//! both reject, and agree on the claims. We may refuse where CONTRACT.md
//! says we are stricter: duplicate claim names and the header rules
//! (structure: any `crit`, which jsonwebtoken ignores; `b64`; `jku`, `x5u`,
//! `jwk`, `x5c`; the JWE-only parameters such as `enc` and `zip`; a
//! parameter named twice; a `kid` that is not a string); and, with the
//! claim rules, a future or malformed `iat`, a missing or non-string `jti`,
//! and `exp` equal to now (PyJWT's boundary). We never accept what
//! jsonwebtoken refuses.
#![no_main]

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tower_simplejwt::token::Expected;
use tower_simplejwt_fuzz::{header_and_payload, signed, CODEC, NOW, SECRET};

/// Whether the payload repeats a name at its top level.
fn has_duplicate_claims(payload: &[u8]) -> bool {
    struct Probe(bool);
    impl<'de> serde::de::Deserialize<'de> for Probe {
        fn deserialize<D: serde::de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Probe;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
                    let mut seen = std::collections::HashSet::new();
                    let mut duplicate = false;
                    while let Some(key) = map.next_key::<String>()? {
                        duplicate |= !seen.insert(key);
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                    Ok(Probe(duplicate))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }
    serde_json::from_slice::<Probe>(payload).map(|probe| probe.0).unwrap_or(false)
}

/// Header parameters whose presence refuses a token (`src/token/header.rs`).
const REFUSED_HEADER_PARAMETERS: [&str; 15] =
    ["crit", "b64", "jku", "x5u", "jwk", "x5c", "enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"];

/// Whether our header rules refuse this header where jsonwebtoken may not:
/// a refused parameter, a parameter named twice, or a `kid` that is not a string.
fn refused_by_our_header_rules(header: &[u8]) -> bool {
    struct Probe(bool);
    impl<'de> serde::de::Deserialize<'de> for Probe {
        fn deserialize<D: serde::de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Probe;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
                    let mut seen = std::collections::HashSet::new();
                    let mut refused = false;
                    while let Some(name) = map.next_key::<String>()? {
                        let value = map.next_value::<Value>()?;
                        refused |= REFUSED_HEADER_PARAMETERS.contains(&name.as_str())
                            || (name == "kid" && !value.is_string());
                        refused |= !seen.insert(name);
                    }
                    Ok(Probe(refused))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }
    serde_json::from_slice::<Probe>(header).map(|probe| probe.0).unwrap_or(false)
}

fn jsonwebtoken_decode(token: &str, validate: bool) -> Option<Map<String, Value>> {
    let key = DecodingKey::from_secret(SECRET.as_bytes());
    let mut validation = Validation::new(Algorithm::HS256);
    // Our configuration has no audience, and then `aud` is not checked (as in simplejwt).
    validation.validate_aud = false;
    if validate {
        validation.validate_nbf = true;
        validation.leeway = 0;
    } else {
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
    }
    jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).ok().map(|data| data.claims)
}

fn is_u64_date(value: Option<&Value>) -> Option<u64> {
    let number = value?.as_number()?;
    number.as_u64().or_else(|| {
        let float = number.as_f64()?;
        (number.is_f64() && float.is_finite() && float >= 0.0 && float < u64::MAX as f64).then(|| float.round() as u64)
    })
}

fuzz_target!(|data: &[u8]| {
    let (header, payload) = header_and_payload(data);
    let token = signed(header, payload);

    // Structure: header, signature and payload, no claim rules.
    let ours = CODEC.decode_unvalidated(&token).ok();
    let theirs = jsonwebtoken_decode(&token, false);
    match (&ours, &theirs) {
        (Some(ours), Some(theirs)) => assert_eq!(ours, theirs, "the claims differ"),
        (None, Some(_)) => assert!(
            has_duplicate_claims(payload) || refused_by_our_header_rules(header),
            "we refuse a token jsonwebtoken accepts: {token}"
        ),
        (Some(_), None) => panic!("we accept a token jsonwebtoken refuses: {token}"),
        (None, None) => {}
    }

    // Full verification at a fixed time. jsonwebtoken reads the system
    // clock, so only tokens far from "now" on both clocks are compared.
    let Some(claims) = theirs.or(ours) else {
        return;
    };
    let system_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for name in ["exp", "nbf"] {
        if let Some(date) = is_u64_date(claims.get(name)) {
            let (low, high) = (NOW.min(system_now), NOW.max(system_now));
            if date >= low.saturating_sub(2) && date <= high + 2 {
                return;
            }
            if (date > NOW) != (date > system_now) {
                return;
            }
        }
    }
    let ours = CODEC.verify(&token, Expected::Any).is_ok();
    let theirs = jsonwebtoken_decode(&token, true).is_some();
    if ours != theirs {
        let iat_refused = claims.get("iat").is_some_and(|iat| is_u64_date(Some(iat)).is_none_or(|iat| iat > NOW));
        let jti_refused = !claims.get("jti").is_some_and(Value::is_string);
        let stricter = !ours
            && (iat_refused || jti_refused || has_duplicate_claims(payload) || refused_by_our_header_rules(header));
        assert!(stricter, "verification disagrees (ours {ours}, jsonwebtoken {theirs}) on {token}");
    }
});
