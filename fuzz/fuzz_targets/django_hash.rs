//! The Django `pbkdf2_sha256$…` hash parser: any string parses or is
//! refused, never a panic; what parses is within the iteration bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_simplejwt::credentials::DjangoHash;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for stored in [text.to_owned(), format!("pbkdf2_sha256${text}")] {
        if let Some(parsed) = DjangoHash::parse(&stored) {
            assert!((1..=10_000_000).contains(&parsed.iterations));
            assert!(stored.contains(parsed.salt));
        }
    }
});
