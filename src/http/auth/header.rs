//! Reading the access token out of the `Authorization` header, as simplejwt does.

use http::HeaderValue;

/// What the authorization header holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Credential<'a> {
    /// No header, an empty one, or another scheme: no credentials.
    Absent,
    /// The right scheme without exactly one value after it.
    Malformed,
    /// The raw token.
    Token(&'a str),
}

/// The first whitespace in `bytes`. A header value can hold only spaces and
/// tabs: `HeaderValue` refuses every other control byte, so these are the
/// only separators Python's `bytes.split()` could meet in it.
fn find_separator(bytes: &[u8]) -> Option<usize> {
    memchr::memchr2(b' ', b'\t', bytes)
}

/// Splits the header on runs of whitespace; the first part must be one of
/// `types` (case-sensitive), and exactly one part must follow it.
pub(crate) fn credential<'a>(header: Option<&'a HeaderValue>, types: &[String]) -> Credential<'a> {
    let Some(header) = header else {
        return Credential::Absent;
    };
    let value = header.as_bytes().trim_ascii();
    if value.is_empty() {
        return Credential::Absent;
    }
    let scheme_end = find_separator(value).unwrap_or(value.len());
    if !types
        .iter()
        .any(|allowed| allowed.as_bytes() == &value[..scheme_end])
    {
        return Credential::Absent;
    }
    let token = value[scheme_end..].trim_ascii_start();
    if token.is_empty() || find_separator(token).is_some() {
        return Credential::Malformed;
    }
    // A token that is not UTF-8 cannot be a JWT: let verification call it invalid.
    Credential::Token(std::str::from_utf8(token).unwrap_or("\u{fffd}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &'static [u8]) -> Credential<'static> {
        let value: &'static HeaderValue =
            Box::leak(Box::new(HeaderValue::from_bytes(value).unwrap()));
        credential(Some(value), &["Bearer".to_owned()])
    }

    #[test]
    fn simplejwt_header_rules() {
        assert_eq!(credential(None, &["Bearer".to_owned()]), Credential::Absent);
        assert_eq!(parse(b""), Credential::Absent);
        assert_eq!(parse(b"   "), Credential::Absent);
        assert_eq!(parse(b"Token abc"), Credential::Absent);
        assert_eq!(parse(b"bearer abc"), Credential::Absent);
        assert_eq!(parse(b"Bearer"), Credential::Malformed);
        assert_eq!(parse(b"Bearer a b"), Credential::Malformed);
        assert_eq!(parse(b"Bearer abc"), Credential::Token("abc"));
        assert_eq!(parse(b"Bearer     abc   "), Credential::Token("abc"));
        assert_eq!(parse(b"  Bearer\tabc"), Credential::Token("abc"));
        assert_eq!(parse(b"Bearer \xff\xfe"), Credential::Token("\u{fffd}"));
    }
}
