//! Reading a token's payload: the claims the rules need, each with how it
//! was found (missing, malformed, a value), and duplicate names refused.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserialize;
use serde::Deserializer;
use serde_json::{Map, Value};

use super::UserIdClaim;

/// A numeric date claim as read from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum NumericDate {
    #[default]
    Missing,
    Seconds(u64),
    /// Present but not a number from 0 to below 2^64.
    Malformed,
}

/// A claim whose presence matters separately from its type.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum StringClaim {
    #[default]
    Missing,
    Text(String),
    NotText,
}

/// The payload as read in one pass, before the rules are applied.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawClaims {
    pub(crate) token_type: StringClaim,
    pub(crate) jti: StringClaim,
    pub(crate) exp: NumericDate,
    pub(crate) iat: NumericDate,
    pub(crate) nbf: NumericDate,
    pub(crate) user_id: Option<UserIdClaim>,
    pub(crate) extra: Map<String, Value>,
}

/// The configured names of the claims with a meaning.
#[derive(Debug, Clone)]
pub(crate) struct ClaimNames {
    pub(crate) token_type: String,
    pub(crate) jti: String,
    pub(crate) user_id: String,
}

impl ClaimNames {
    /// Parses a payload in one pass, refusing duplicate claim names.
    pub(crate) fn parse(&self, payload: &[u8]) -> Result<RawClaims, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(payload);
        let claims = self.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(claims)
    }
}

impl<'de> DeserializeSeed<'de> for &ClaimNames {
    type Value = RawClaims;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawClaims, D::Error> {
        deserializer.deserialize_map(PayloadVisitor { names: self })
    }
}

struct PayloadVisitor<'a> {
    names: &'a ClaimNames,
}

fn duplicate<E: de::Error>(name: &str) -> E {
    E::custom(format_args!("duplicate claim `{name}`"))
}

impl<'de> Visitor<'de> for PayloadVisitor<'_> {
    type Value = RawClaims;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawClaims, A::Error> {
        let mut claims = RawClaims::default();
        while let Some(ClaimName(name)) = map.next_key::<ClaimName<'de>>()? {
            match &*name {
                "exp" | "iat" | "nbf" => {
                    let slot = match &*name {
                        "exp" => &mut claims.exp,
                        "iat" => &mut claims.iat,
                        _ => &mut claims.nbf,
                    };
                    if *slot != NumericDate::Missing {
                        return Err(duplicate(&name));
                    }
                    *slot = numeric_date(map.next_value::<Value>()?);
                }
                _ if name == self.names.token_type => {
                    if claims.token_type != StringClaim::Missing {
                        return Err(duplicate(&name));
                    }
                    claims.token_type = string_claim(map.next_value::<Value>()?);
                }
                _ if name == self.names.jti => {
                    if claims.jti != StringClaim::Missing {
                        return Err(duplicate(&name));
                    }
                    claims.jti = string_claim(map.next_value::<Value>()?);
                }
                _ if name == self.names.user_id => {
                    if claims.user_id.is_some() {
                        return Err(duplicate(&name));
                    }
                    claims.user_id = Some(user_id_claim(map.next_value::<Value>()?));
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    if claims.extra.insert(name.into_owned(), value).is_some() {
                        return Err(de::Error::custom("duplicate claim"));
                    }
                }
            }
        }
        Ok(claims)
    }
}

/// A claim name, borrowed from the payload when it has no escapes: the
/// standard claims are matched without allocating.
struct ClaimName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for ClaimName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl<'de> Visitor<'de> for NameVisitor {
            type Value = ClaimName<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a claim name")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(ClaimName(Cow::Borrowed(name)))
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
                Ok(ClaimName(Cow::Owned(name.to_owned())))
            }

            fn visit_string<E: de::Error>(self, name: String) -> Result<Self::Value, E> {
                Ok(ClaimName(Cow::Owned(name)))
            }
        }

        deserializer.deserialize_str(NameVisitor)
    }
}

/// Reads a numeric date the way jsonwebtoken 11 does: an unsigned integer,
/// or a finite non-negative float below 2^64 rounded to whole seconds.
fn numeric_date(value: Value) -> NumericDate {
    let Value::Number(number) = value else {
        return NumericDate::Malformed;
    };
    if let Some(seconds) = number.as_u64() {
        return NumericDate::Seconds(seconds);
    }
    match number.as_f64() {
        Some(float)
            if number.is_f64() && float.is_finite() && float >= 0.0 && float < u64::MAX as f64 =>
        {
            // In range by the check above, so the cast neither saturates nor wraps.
            NumericDate::Seconds(float.round() as u64)
        }
        _ => NumericDate::Malformed,
    }
}

fn string_claim(value: Value) -> StringClaim {
    match value {
        Value::String(text) => StringClaim::Text(text),
        _ => StringClaim::NotText,
    }
}

fn user_id_claim(value: Value) -> UserIdClaim {
    match value {
        Value::String(id) => UserIdClaim::Id(id),
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            UserIdClaim::Id(number.to_string())
        }
        _ => UserIdClaim::Unusable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ClaimNames {
        ClaimNames {
            token_type: "token_type".into(),
            jti: "jti".into(),
            user_id: "user_id".into(),
        }
    }

    #[test]
    fn reads_standard_claims_and_keeps_the_rest() {
        let raw = names()
            .parse(br#"{"token_type":"access","exp":10,"iat":5,"jti":"x","user_id":"1","role":"admin"}"#)
            .unwrap();
        assert_eq!(raw.token_type, StringClaim::Text("access".into()));
        assert_eq!(raw.exp, NumericDate::Seconds(10));
        assert_eq!(raw.iat, NumericDate::Seconds(5));
        assert_eq!(raw.user_id, Some(UserIdClaim::Id("1".into())));
        assert_eq!(raw.extra["role"], "admin");
    }

    #[test]
    fn numeric_dates_follow_jsonwebtoken() {
        let exp = |json: &str| {
            names()
                .parse(format!(r#"{{"exp":{json}}}"#).as_bytes())
                .unwrap()
                .exp
        };
        assert_eq!(exp("0"), NumericDate::Seconds(0));
        assert_eq!(exp("18446744073709551615"), NumericDate::Seconds(u64::MAX));
        assert_eq!(exp("10.4"), NumericDate::Seconds(10));
        assert_eq!(exp("10.5"), NumericDate::Seconds(11));
        assert_eq!(exp("1e3"), NumericDate::Seconds(1000));
        for malformed in [
            "-1",
            "-0.5",
            "18446744073709551616",
            "1e300",
            "\"10\"",
            "true",
            "[1]",
            "null",
            "{}",
        ] {
            assert_eq!(exp(malformed), NumericDate::Malformed, "{malformed}");
        }
    }

    #[test]
    fn user_id_forms() {
        let user = |json: &str| {
            names()
                .parse(format!(r#"{{"user_id":{json}}}"#).as_bytes())
                .unwrap()
                .user_id
        };
        assert_eq!(user("\"7\""), Some(UserIdClaim::Id("7".into())));
        assert_eq!(user("7"), Some(UserIdClaim::Id("7".into())));
        assert_eq!(user("-7"), Some(UserIdClaim::Id("-7".into())));
        for unusable in ["[1]", "{}", "1.5", "null", "true"] {
            assert_eq!(user(unusable), Some(UserIdClaim::Unusable), "{unusable}");
        }
        assert_eq!(names().parse(b"{}").unwrap().user_id, None);
    }

    #[test]
    fn duplicate_names_are_refused() {
        for payload in [
            r#"{"exp":1,"exp":1}"#,
            r#"{"jti":"a","jti":"a"}"#,
            r#"{"token_type":"access","token_type":"refresh"}"#,
            r#"{"user_id":"1","user_id":"2"}"#,
            r#"{"role":"a","role":"b"}"#,
        ] {
            assert!(names().parse(payload.as_bytes()).is_err(), "{payload}");
        }
    }

    #[test]
    fn not_an_object_or_trailing_data_is_refused() {
        for payload in ["[]", "1", "\"x\"", "{} {}", "{}x", "\u{feff}{}", ""] {
            assert!(names().parse(payload.as_bytes()).is_err(), "{payload:?}");
        }
    }
}
