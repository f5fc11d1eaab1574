//! The JOSE header of a token: one rule for every registered parameter.
//!
//! The rules and their reasons are tabled in the documentation of the
//! [`token`](crate::token) module, for every parameter registered with IANA
//! (RFC 7515 §4.1, RFC 7516 §4.1, RFC 7518 §4, RFC 7519 §5, RFC 7797,
//! RFC 8555, RFC 8225, RFC 9321); `rule_of` is that table in code. A
//! parameter named twice is refused (RFC 7515 §4 lets a parser refuse
//! duplicates; a second `alg` or `crit` must not hide behind the first).
//! The header must be a JSON object in UTF-8, base64url without padding,
//! like the payload.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// What a verifier uses of a token's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoseHeader {
    /// The algorithm the token claims; only ever compared with a key's own.
    pub(crate) alg: Algorithm,
    /// The key id, selecting among the configured keys.
    pub(crate) kid: Option<String>,
}

/// Why a header was refused. Every variant is `Token is invalid` on the
/// wire; the reason is for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeaderError {
    /// Not base64url without padding.
    #[error("the header is not unpadded base64url")]
    Encoding,
    /// Not a JSON object, or a parameter of the wrong type.
    #[error("the header is malformed: {0}")]
    Malformed(String),
    /// A parameter named twice.
    #[error("header parameter `{0}` appears twice")]
    Duplicate(String),
    /// A parameter whose rule is to refuse the token.
    #[error("header parameter `{0}` is refused")]
    Refused(&'static str),
    /// No `alg`.
    #[error("the header has no `alg`")]
    MissingAlg,
}

/// The rule of one header parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Alg,
    Kid,
    /// Ignored, but read as jsonwebtoken reads it: a string or `null`.
    IgnoredString,
    /// Ignored whatever its value.
    Ignored,
    /// Its presence refuses the token; the name as registered.
    Refused(&'static str),
}

/// The rule of the parameter `name`.
fn rule_of(name: &str) -> Rule {
    const REFUSED: [&str; 15] = [
        "crit", "jku", "x5u", "jwk", "x5c", "b64", "enc", "zip", "epk", "apu", "apv", "iv", "tag",
        "p2s", "p2c",
    ];
    match name {
        "alg" => Rule::Alg,
        "kid" => Rule::Kid,
        "typ" | "cty" | "x5t" | "x5t#S256" | "url" | "nonce" => Rule::IgnoredString,
        _ => match REFUSED.iter().find(|refused| **refused == name) {
            Some(refused) => Rule::Refused(refused),
            None => Rule::Ignored,
        },
    }
}

/// Reads the base64url header of a token and applies every rule above.
pub(crate) fn parse_header(encoded: &str) -> Result<JoseHeader, HeaderError> {
    const STACK: usize = 512;
    let mut buffer = [0u8; STACK];
    let heap;
    let json: &[u8] = if encoded.len() / 4 * 3 + 3 <= STACK {
        let length = URL_SAFE_NO_PAD
            .decode_slice(encoded, &mut buffer)
            .map_err(|_| HeaderError::Encoding)?;
        &buffer[..length]
    } else {
        heap = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| HeaderError::Encoding)?;
        &heap
    };
    parse_header_json(json)
}

/// [`parse_header`] on the decoded JSON.
fn parse_header_json(json: &[u8]) -> Result<JoseHeader, HeaderError> {
    // Checked whole: serde skips the strings of ignored parameters without
    // checking their UTF-8, and a header that is not UTF-8 is not JSON.
    let json = std::str::from_utf8(json)
        .map_err(|error| HeaderError::Malformed(format!("not UTF-8: {error}")))?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let read = HeaderSeed
        .deserialize(&mut deserializer)
        .and_then(|read| deserializer.end().map(|()| read));
    match read {
        Ok(outcome) => outcome,
        Err(error) => Err(HeaderError::Malformed(error.to_string())),
    }
}

/// Reads a header object. Its value's outer `Result` (serde's) is a
/// malformed header, the inner one a refusal by rule, so that the reason
/// survives serde's error type.
struct HeaderSeed;

impl<'de> DeserializeSeed<'de> for HeaderSeed {
    type Value = Result<JoseHeader, HeaderError>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Result<JoseHeader, HeaderError>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JOSE header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut alg = None;
        let mut kid = None;
        // Headers are small; the set only guards against a crafted one with
        // thousands of names (read before any signature is checked).
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        let mut refusal = None;
        while let Some(ParameterName(name)) = map.next_key::<ParameterName<'de>>()? {
            if refusal.is_some() {
                // Refused already: read the rest only to keep the JSON well formed.
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let rule = rule_of(&name);
            if !seen.insert(name.clone()) {
                refusal = Some(HeaderError::Duplicate(name.into_owned()));
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            match rule {
                Rule::Alg => alg = Some(map.next_value::<Algorithm>()?),
                Rule::Kid => kid = Some(map.next_value::<String>()?),
                Rule::IgnoredString => {
                    map.next_value::<Option<IgnoredString>>()?;
                }
                Rule::Ignored => {
                    // Read as a JSON value, as jsonwebtoken reads it: a number
                    // beyond f64 or a nesting too deep is refused, not skipped.
                    map.next_value::<serde_json::Value>()?;
                }
                Rule::Refused(name) => {
                    refusal = Some(HeaderError::Refused(name));
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(refusal) = refusal {
            return Ok(Err(refusal));
        }
        Ok(match alg {
            Some(alg) => Ok(JoseHeader { alg, kid }),
            None => Err(HeaderError::MissingAlg),
        })
    }
}

/// A parameter name, borrowed from the header when it has no escapes.
struct ParameterName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for ParameterName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl<'de> Visitor<'de> for NameVisitor {
            type Value = ParameterName<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a header parameter name")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(ParameterName(Cow::Borrowed(name)))
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
                Ok(ParameterName(Cow::Owned(name.to_owned())))
            }

            fn visit_string<E: de::Error>(self, name: String) -> Result<Self::Value, E> {
                Ok(ParameterName(Cow::Owned(name)))
            }
        }

        deserializer.deserialize_str(NameVisitor)
    }
}

/// A string read and dropped (a non-string is an error).
struct IgnoredString;

impl<'de> Deserialize<'de> for IgnoredString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringVisitor;

        impl Visitor<'_> for StringVisitor {
            type Value = IgnoredString;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string")
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(IgnoredString)
            }
        }

        deserializer.deserialize_str(StringVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<JoseHeader, HeaderError> {
        parse_header(&URL_SAFE_NO_PAD.encode(json))
    }

    fn hs256(kid: Option<&str>) -> Result<JoseHeader, HeaderError> {
        Ok(JoseHeader {
            alg: Algorithm::HS256,
            kid: kid.map(str::to_owned),
        })
    }

    #[test]
    fn every_registered_parameter_has_its_rule() {
        let refused = |name| Err(HeaderError::Refused(name));
        let cases: Vec<(&str, Result<JoseHeader, HeaderError>)> = vec![
            (r#"{"alg":"HS256","typ":"JWT"}"#, hs256(None)),
            (r#"{"alg":"HS256"}"#, hs256(None)),
            (r#"{"alg":"HS256","kid":"k1"}"#, hs256(Some("k1"))),
            (r#"{"alg":"HS256","typ":null,"cty":"JWT"}"#, hs256(None)),
            (
                r#"{"alg":"HS256","x5t":"abc","x5t#S256":"def"}"#,
                hs256(None),
            ),
            (
                r#"{"alg":"HS256","url":"https://a","nonce":"n"}"#,
                hs256(None),
            ),
            (r#"{"alg":"HS256","iss":1,"sub":[],"aud":{}}"#, hs256(None)),
            (r#"{"alg":"HS256","ppt":"shaken","svt":"x"}"#, hs256(None)),
            (r#"{"alg":"HS256","x-unknown":true,"Crit":[]}"#, hs256(None)),
            (
                r#"{"alg":"HS256","crit":["x-unknown"],"x-unknown":true}"#,
                refused("crit"),
            ),
            (r#"{"alg":"HS256","crit":["exp"]}"#, refused("crit")),
            (r#"{"alg":"HS256","crit":[]}"#, refused("crit")),
            (r#"{"alg":"HS256","crit":null}"#, refused("crit")),
            (r#"{"alg":"HS256","crit":"b64"}"#, refused("crit")),
            (r#"{"alg":"HS256","crit":[1]}"#, refused("crit")),
            (
                r#"{"alg":"HS256","jku":"https://attacker.example/jwks"}"#,
                refused("jku"),
            ),
            (
                r#"{"alg":"HS256","x5u":"https://attacker.example/cert"}"#,
                refused("x5u"),
            ),
            (
                r#"{"alg":"HS256","jwk":{"kty":"oct","k":"YQ"}}"#,
                refused("jwk"),
            ),
            (r#"{"alg":"HS256","x5c":["MIIB"]}"#, refused("x5c")),
            (r#"{"alg":"HS256","b64":true}"#, refused("b64")),
            (
                r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
                refused("b64"),
            ),
            (r#"{"alg":"HS256","enc":"A256GCM"}"#, refused("enc")),
            (r#"{"alg":"HS256","zip":"DEF"}"#, refused("zip")),
            (r#"{"alg":"HS256","epk":{}}"#, refused("epk")),
            (r#"{"alg":"HS256","apu":"a"}"#, refused("apu")),
            (r#"{"alg":"HS256","apv":"a"}"#, refused("apv")),
            (r#"{"alg":"HS256","iv":"a"}"#, refused("iv")),
            (r#"{"alg":"HS256","tag":"a"}"#, refused("tag")),
            (r#"{"alg":"HS256","p2s":"a"}"#, refused("p2s")),
            (r#"{"alg":"HS256","p2c":1000}"#, refused("p2c")),
            (r#"{"typ":"JWT"}"#, Err(HeaderError::MissingAlg)),
            (
                r#"{"alg":"HS256","alg":"HS256"}"#,
                Err(HeaderError::Duplicate("alg".into())),
            ),
            (
                r#"{"alg":"HS256","x":1,"x":2}"#,
                Err(HeaderError::Duplicate("x".into())),
            ),
            (r#"{"alg":"HS256","c\u0072it":["x"]}"#, refused("crit")),
        ];
        for (json, expected) in cases {
            assert_eq!(parse(json), expected, "{json}");
        }
    }

    #[test]
    fn malformed_headers() {
        for json in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"hs256"}"#,
            r#"{"alg":null}"#,
            r#"{"alg":256}"#,
            r#"{"alg":"HS256","kid":null}"#,
            r#"{"alg":"HS256","kid":7}"#,
            r#"{"alg":"HS256","typ":1}"#,
            r#"{"alg":"HS256","cty":{}}"#,
            r#"{"alg":"HS256","x5t":[]}"#,
            r#"{"alg":"HS256"} "x""#,
            r#"["alg","HS256"]"#,
            "\u{feff}{\"alg\":\"HS256\"}",
            "",
        ] {
            assert!(
                matches!(parse(json), Err(HeaderError::Malformed(_))),
                "{json}: {:?}",
                parse(json)
            );
        }
        // Invalid UTF-8 anywhere, also in a parameter that is ignored
        // (found by the differential fuzz target: jsonwebtoken refuses it).
        for json in [
            &b"{\"alg\":\"HS256\",\"0typ\":\"JW\xd4\"}"[..],
            b"{\"alg\":\"HS256\",\"x\":[\"\xff\"]}",
            b"{\"alg\":\"HS256\",\"\xc3\":1}",
            // A number beyond f64 in an ignored parameter (found by the fuzz target too).
            b"{\"alg\":\"HS256\",\"exp\":11e3083600}",
            b"{\"alg\":\"HS256\",\"x\":[-1e400]}",
        ] {
            assert!(
                matches!(
                    parse_header(&URL_SAFE_NO_PAD.encode(json)),
                    Err(HeaderError::Malformed(_))
                ),
                "{json:?}"
            );
        }
        assert_eq!(
            parse_header("eyJhbGciOiJIUzI1NiJ9="),
            Err(HeaderError::Encoding),
            "padded"
        );
        assert_eq!(
            parse_header("eyJhbGciOiJIUzI1NiJ9+/"),
            Err(HeaderError::Encoding),
            "standard alphabet"
        );
    }

    #[test]
    fn a_refusal_does_not_depend_on_where_the_parameter_is() {
        assert_eq!(
            parse(r#"{"crit":["x"],"x":1,"alg":"HS256"}"#),
            Err(HeaderError::Refused("crit"))
        );
        assert_eq!(
            parse(r#"{"jwk":{},"crit":["x"],"alg":"HS256"}"#),
            Err(HeaderError::Refused("jwk")),
            "the first refusal is reported"
        );
        let long = format!(
            r#"{{"alg":"HS256",{}"crit":["x"]}}"#,
            (0..500)
                .map(|i| format!(r#""p{i}":{i},"#))
                .collect::<String>()
        );
        assert_eq!(parse(&long), Err(HeaderError::Refused("crit")));
    }
}
