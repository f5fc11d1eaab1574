//! Token verification from arbitrary bytes: as a raw token, and signed over
//! a fuzzer-chosen header and payload. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_simplejwt::token::{Expected, TokenKind};
use tower_simplejwt_fuzz::{header_and_payload, signed, CODEC};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let (header, payload) = header_and_payload(rest);
        signed(header, payload)
    };
    for expected in [Expected::Any, Expected::Kind(TokenKind::Access), Expected::Kind(TokenKind::Refresh)] {
        if let Ok(claims) = CODEC.verify(&token, expected) {
            assert!(!claims.jti.is_empty() || claims.jti.is_empty());
            assert!(claims.exp > tower_simplejwt_fuzz::NOW, "a verified token is not expired");
        }
        let _ = CODEC.verify_even_if_expired(&token, expected);
    }
});
