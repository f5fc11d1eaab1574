//! Property tests: minting then verifying is the identity for any extra
//! claims, and any single-byte change of a token is refused.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Map, Value};
use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::error::TokenError;
use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};

fn codec() -> TokenCodec {
    TokenCodec::with_clock(
        &JwtConfig::simplejwt_guide("property-secret-of-at-least-32-bytes"),
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
}
