//! Property tests: minting then verifying is the identity for any extra
//! claims, any single-byte change of a token is refused, and so is any
//! token whose header carries a `crit`, however well signed.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use serde_json::{Map, Value};
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::token::TokenError;
use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};

const SECRET: &str = "property-secret-of-at-least-32-bytes";

fn codec() -> TokenCodec {
    TokenCodec::with_clock(
        &JwtConfig::simplejwt_guide(SECRET),
        Arc::new(ManualClock::new(1_800_000_000)),
    )
    .unwrap()
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e15f64..1e15).prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn extra_claims() -> impl Strategy<Value = Map<String, Value>> {
    // Names of standard claims are dropped by minting; keep them out of the comparison.
    prop::collection::btree_map("[a-z_]{1,12}", json_value(), 0..6).prop_map(|map| {
        map.into_iter()
            .filter(|(name, _)| {
                !["exp", "iat", "nbf", "jti", "token_type", "user_id"].contains(&name.as_str())
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mint_then_verify_is_identity(extra in extra_claims(), user_id in "[0-9a-zA-Z@._-]{1,20}") {
        let codec = codec();
        let pair = codec.mint_pair(&user_id, &extra).unwrap();
        let access = codec.verify(&pair.access.token, Expected::Kind(TokenKind::Access)).unwrap();
        prop_assert_eq!(&access, &pair.access.claims);
        prop_assert_eq!(access.subject(), Some(user_id.as_str()));
        prop_assert_eq!(&access.extra, &extra);
        let refresh = codec.verify(&pair.refresh.token, Expected::Kind(TokenKind::Refresh)).unwrap();
        prop_assert_eq!(&refresh.extra, &extra);
    }

    #[test]
    fn any_single_byte_change_is_refused(position in any::<prop::sample::Index>(), replacement in any::<u8>()) {
        let codec = codec();
        let token = codec.mint_pair("1", &Map::new()).unwrap().access.token;
        let mut bytes = token.clone().into_bytes();
        let at = position.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert_eq!(codec.verify(&changed, Expected::Any), Err(TokenError::Invalid), "changed byte {} of {}", at, token);
    }

    #[test]
    fn any_crit_in_a_valid_header_is_refused(
        crit in prop_oneof![
            prop::collection::vec(".{0,12}", 0..4).prop_map(Value::from),
            json_value(),
        ],
        extra_header in prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..4),
        crit_at in any::<prop::sample::Index>(),
        define_listed in any::<bool>(),
        kind in prop_oneof![Just(TokenKind::Access), Just(TokenKind::Refresh)],
    ) {
        let codec = codec();
        let pair = codec.mint_pair("1", &Map::new()).unwrap();
        let token = match kind {
            TokenKind::Access => &pair.access.token,
            TokenKind::Refresh => &pair.refresh.token,
        };
        prop_assert!(codec.verify(token, Expected::Kind(kind)).is_ok(), "valid before");

        // The same token, its header given a `crit` anywhere (and, maybe, the
        // parameters it lists), re-signed with the right key.
        // Names with a rule of their own stay out, so `crit` is the only reason to refuse.
        let reserved = |name: &str| {
            ["crit", "alg", "kid", "typ", "cty", "url", "nonce", "jku", "jwk", "x5u", "x5c", "x5t", "b64"]
                .contains(&name)
                || ["enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"].contains(&name)
        };
        let mut header: Vec<(String, Value)> = vec![("alg".into(), "HS256".into()), ("typ".into(), "JWT".into())];
        header.extend(extra_header.into_iter().filter(|(name, _)| !reserved(name)));
        if define_listed {
            for listed in crit.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !reserved(listed) && header.iter().all(|(name, _)| name != listed) {
                    header.push((listed.to_owned(), Value::Bool(true)));
                }
            }
        }
        let payload = token.split('.').nth(1).unwrap();
        let resign = |header: &[(String, Value)]| {
            let header = format!(
                "{{{}}}",
                header.iter().map(|(name, value)| format!("{}:{value}", Value::from(name.as_str()))).collect::<Vec<_>>().join(",")
            );
            let message = format!("{}.{payload}", URL_SAFE_NO_PAD.encode(&header));
            let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
            let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap();
            (format!("{message}.{signature}"), header)
        };
        let (without_crit, _) = resign(&header);
        prop_assert!(codec.verify(&without_crit, Expected::Kind(kind)).is_ok(), "the same header without `crit` verifies");
        header.insert(crit_at.index(header.len() + 1), ("crit".into(), crit));
        let (resigned, header) = resign(&header);

        for _ in 0..3 {
            prop_assert_eq!(codec.verify(&resigned, Expected::Kind(kind)), Err(TokenError::Invalid), "{}", header);
            prop_assert_eq!(codec.verify(&resigned, Expected::Any), Err(TokenError::Invalid));
            prop_assert_eq!(codec.verify_even_if_expired(&resigned, Expected::Any).map(|verified| verified.claims), Err(TokenError::Invalid));
        }
    }
}
