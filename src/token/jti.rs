use rand::RngCore;

/// A fresh token id: a random (version 4) UUID as 32 lowercase hex digits.
pub(crate) fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut hex = String::with_capacity(32);
    for byte in bytes {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_uuid4_in_lowercase_hex() {
        let jti = new_jti();
        assert_eq!(jti.len(), 32);
        assert!(jti
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(&jti[12..13], "4");
        assert!(matches!(&jti[16..17], "8" | "9" | "a" | "b"));
        assert_ne!(new_jti(), jti);
    }
}
