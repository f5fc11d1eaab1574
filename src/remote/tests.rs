//! Tests of `remote`.

use super::*;
use crate::clock::ManualClock;
use crate::keys::{Key, KeySet};
use crate::Algorithm;

fn key(file: &str, algorithm: Algorithm, kid: &str) -> Key {
    let path = format!("{}/tests/fixtures/keys/{file}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(path).expect("fixture");
    Key::from_pem(algorithm, Some(&pem), None)
        .expect("key")
        .with_kid(kid)
}

#[test]
fn an_unchanged_key_set_keeps_the_verified_token_cache() {
    let mut config = JwtConfig::simplejwt_guide("a local secret of at least 32 bytes");
    config.issuer = Some("https://auth.example".to_owned());
    config.audience = Some("api".to_owned());
    let issuer = Issuer::new(
        RemoteIssuer::new("https://auth.example", "https://auth.example/jwks.json")
            .with_audience("api"),
        &config,
        client(false),
        RemoteSettings::default(),
        Arc::new(ManualClock::new(1_800_000_000)),
    )
    .expect("issuer");
    let a = key("ec256_private.pem", Algorithm::ES256, "a");
    let b = key("ed25519_private.pem", Algorithm::EdDSA, "b");
    let jwks = KeySet::new(a.clone(), []).expect("set").jwks();
    let generation = || issuer.codec.key_set().generation();

    assert_eq!(issuer.apply(jwks.clone()).ok(), Some(true));
    let first = generation();
    // The same document again (a background refresh, a refetch for a
    // made-up kid): the keys and their cache generation stay.
    assert_eq!(issuer.apply(jwks.clone()).ok(), Some(false));
    assert_eq!(generation(), first);
    // A new key: a new generation.
    let rotated = KeySet::new(a, [b]).expect("set").jwks();
    assert_eq!(issuer.apply(rotated).ok(), Some(true));
    assert!(generation() > first);
    assert!(issuer.codec.key_set().has_kid("b"));
}
