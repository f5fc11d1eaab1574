//! Verification: signature, payload and the claim rules, in the reference's order.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::header::parse_header;
use super::payload::{NumericDate, RawClaims, StringClaim};
use super::{Claims, Expected, TokenCodec, TokenError, TokenKind, UserIdClaim};
use crate::keys::KeySet;

/// A token that passed every check but, possibly, expiry.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::token::{Expected, TokenCodec};
///
/// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
/// let access = codec.mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
/// let verified = codec.verify_even_if_expired(&access, Expected::Any).unwrap();
/// assert!(!verified.expired);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// Its claims.
    pub claims: Claims,
    /// Whether `exp` has passed (beyond the leeway).
    pub expired: bool,
}

impl TokenCodec {
    /// Verifies `token` and returns its claims.
    ///
    /// The checks run in the reference's order, so the same bad token gets the
    /// same message: size and shape, header algorithm, signature, payload,
    /// `iat` and `nbf` (not in the future), `exp` (not past), `aud`, `iss`,
    /// then the presence of `exp`, `jti` and the token type.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenError;
    /// use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let pair = codec.mint_pair("1", &serde_json::Map::new()).unwrap();
    /// assert_eq!(
    ///     codec.verify(&pair.access.token, Expected::Kind(TokenKind::Refresh)),
    ///     Err(TokenError::WrongType),
    /// );
    /// assert_eq!(codec.verify("garbage", Expected::Any), Err(TokenError::Invalid));
    /// ```
    pub fn verify(&self, token: &str, expected: Expected) -> Result<Claims, TokenError> {
        self.check(token, expected, false).map(|(claims, _)| claims)
    }

    /// Like [`verify`](Self::verify), but a token that passes every check
    /// except expiry is returned too, marked expired. Automatic refresh uses
    /// it to make sure an expired access token is otherwise sound.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_simplejwt::clock::ManualClock;
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};
    ///
    /// let clock = ManualClock::new(1_000_000);
    /// let codec = TokenCodec::with_clock(&JwtConfig::new("a long random secret, 32 bytes or more"), Arc::new(clock.clone())).unwrap();
    /// let access = codec.mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
    /// clock.advance(Duration::from_secs(3600));
    /// let verified = codec.verify_even_if_expired(&access, Expected::Kind(TokenKind::Access)).unwrap();
    /// assert!(verified.expired);
    /// assert_eq!(verified.claims.subject(), Some("1"));
    /// ```
    pub fn verify_even_if_expired(
        &self,
        token: &str,
        expected: Expected,
    ) -> Result<VerifiedToken, TokenError> {
        let (claims, expired) = self.check(token, expected, true)?;
        Ok(VerifiedToken { claims, expired })
    }

    /// The header and signature checks of [`verify`](Self::verify) and the
    /// parse of its payload (duplicate claim names refused), with no claim
    /// rule applied: the claims exactly as signed. For tests and the
    /// differential fuzz target against jsonwebtoken.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenCodec;
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let token = codec.mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
    /// assert_eq!(codec.decode_unvalidated(&token).unwrap()["user_id"], "1");
    /// ```
    pub fn decode_unvalidated(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let (_, payload) = check_signature(&self.inner.keys.load(), token)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        self.inner
            .names
            .parse(&payload)
            .map_err(|_| TokenError::Invalid)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)
    }

    /// The claims of a token this codec minted and the store kept sealed (the
    /// successor handed out at a rotation, replayed within the grace window):
    /// its payload read as signed, without the signature, time, audience or
    /// issuer checks. Its seal already vouches for it, and a replay served by
    /// another server (a clock a second behind, keys rotated since) must not
    /// fail on them.
    pub(crate) fn claims_of_kept_token(&self, token: &str) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let raw = decode_payload(payload, |json| {
            self.inner
                .names
                .parse(json)
                .map_err(|_| TokenError::Invalid)
        })?;
        let date = |date: NumericDate| match date {
            NumericDate::Seconds(seconds) => Ok(Some(seconds)),
            NumericDate::Missing => Ok(None),
            NumericDate::Malformed => Err(TokenError::Invalid),
        };
        let StringClaim::Text(jti) = raw.jti else {
            return Err(TokenError::NoId);
        };
        Ok(Claims {
            token_type: match raw.token_type {
                StringClaim::Text(token_type) => Some(token_type),
                StringClaim::Missing | StringClaim::NotText => None,
            },
            jti,
            exp: date(raw.exp)?.ok_or(TokenError::NoExp)?,
            iat: date(raw.iat)?,
            nbf: date(raw.nbf)?,
            user_id: raw.user_id.unwrap_or(UserIdClaim::Missing),
            extra: raw.extra,
        })
    }

    /// Every check. An expired token is "Token is expired" at the reference's
    /// point in the order of checks, or with `allow_expired` is reported
    /// beside the claims once every other check passed.
    fn check(
        &self,
        token: &str,
        expected: Expected,
        allow_expired: bool,
    ) -> Result<(Claims, bool), TokenError> {
        let inner = &*self.inner;
        if token.len() > inner.max_token_bytes {
            return Err(TokenError::Invalid);
        }
        let keys = inner.keys.load();
        let cache = inner.cache.as_ref().map(|cache| (cache, cache.hash(token)));
        if let Some(raw) = cache.and_then(|(cache, hash)| cache.get(hash, token)) {
            return self.apply_rules(raw, expected, allow_expired);
        }
        let (asymmetric, payload) = check_signature(&keys, token)?;
        let raw = decode_payload(payload, |json| {
            inner.names.parse(json).map_err(|_| TokenError::Invalid)
        })?;
        // A refresh token is presented once (rotation): not worth remembering.
        if let Some((cache, hash)) =
            cache.filter(|_| expected != Expected::Kind(TokenKind::Refresh))
        {
            #[cfg(test)]
            inner.before_cache_insert.run();
            // Tied to the keys that verified it: dropped if they were replaced meanwhile.
            cache.insert(keys.generation(), hash, token, &raw, asymmetric, self.now());
        }
        self.apply_rules(raw, expected, allow_expired)
    }

    pub(super) fn apply_rules(
        &self,
        raw: RawClaims,
        expected: Expected,
        allow_expired: bool,
    ) -> Result<(Claims, bool), TokenError> {
        let inner = &*self.inner;
        let now = self.now();
        let latest_allowed = now.saturating_add(inner.leeway);
        let iat = not_after(raw.iat, latest_allowed)?;
        let nbf = not_after(raw.nbf, latest_allowed)?;
        let exp = match raw.exp {
            NumericDate::Malformed => return Err(TokenError::Invalid),
            NumericDate::Seconds(exp) => Some(exp),
            NumericDate::Missing => None,
        };
        let expired = exp.is_some_and(|exp| exp.saturating_add(inner.leeway) <= now);
        if expired && !allow_expired {
            return Err(TokenError::Expired);
        }
        if let Some(audience) = &inner.audience {
            let matches = match raw.extra.get("aud") {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
                _ => false,
            };
            if !matches {
                return Err(TokenError::Invalid);
            }
        }
        if let Some(issuer) = &inner.issuer {
            if raw.extra.get("iss").and_then(Value::as_str) != Some(issuer.as_str()) {
                return Err(TokenError::Invalid);
            }
        }
        let exp = exp.ok_or(TokenError::NoExp)?;
        let jti = match raw.jti {
            StringClaim::Text(jti) => jti,
            StringClaim::Missing => return Err(TokenError::NoId),
            StringClaim::NotText => return Err(TokenError::Invalid),
        };
        if let Expected::Kind(kind) = expected {
            match &raw.token_type {
                StringClaim::Missing => return Err(TokenError::NoType),
                StringClaim::Text(found) if found == kind.as_str() => {}
                StringClaim::Text(_) | StringClaim::NotText => return Err(TokenError::WrongType),
            }
        }
        let token_type = match raw.token_type {
            StringClaim::Text(token_type) => Some(token_type),
            StringClaim::Missing | StringClaim::NotText => None,
        };
        let claims = Claims {
            token_type,
            jti,
            exp,
            iat,
            nbf,
            user_id: raw.user_id.unwrap_or(UserIdClaim::Missing),
            extra: raw.extra,
        };
        Ok((claims, expired))
    }
}

/// Splits the token, finds the key its header names, and checks the
/// signature. Returns whether the key is asymmetric (its check expensive)
/// and the base64url payload.
fn check_signature<'t>(keys: &KeySet, token: &'t str) -> Result<(bool, &'t str), TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid);
    };
    let message = &token.as_bytes()[..header.len() + 1 + payload.len()];
    let verified_by = if let Some(key) = keys.signing_key().filter(|_| header == keys.header()) {
        // Our own header, byte for byte: the signing key, nothing to parse.
        key.verify(message, signature).then_some(key)
    } else {
        // Any other header goes through the rules of `header.rs` (`crit`,
        // key-carrying and JWE parameters refused). Its `kid` selects among
        // our keys and its `alg` must be that key's own.
        let header = parse_header(header).map_err(|_| TokenError::Invalid)?;
        keys.find_verifier(header.kid.as_deref(), header.alg, |key| {
            key.verify(message, signature)
        })
    };
    match verified_by {
        Some(key) => Ok((!key.is_hmac(), payload)),
        None => Err(TokenError::Invalid),
    }
}

/// Decodes a base64url payload and hands its JSON to `parse`: on the stack
/// for payloads of the usual size, on the heap beyond.
fn decode_payload<T>(
    payload: &str,
    parse: impl FnOnce(&[u8]) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    const STACK: usize = 1024;
    if payload.len() / 4 * 3 + 3 <= STACK {
        let mut buffer = [0u8; STACK];
        let length = URL_SAFE_NO_PAD
            .decode_slice(payload, &mut buffer)
            .map_err(|_| TokenError::Invalid)?;
        parse(&buffer[..length])
    } else {
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        parse(&bytes)
    }
}

/// `Err(Invalid)` when a date is malformed or later than `latest_allowed`.
fn not_after(date: NumericDate, latest_allowed: u64) -> Result<Option<u64>, TokenError> {
    match date {
        NumericDate::Missing => Ok(None),
        NumericDate::Seconds(seconds) if seconds <= latest_allowed => Ok(Some(seconds)),
        NumericDate::Seconds(_) | NumericDate::Malformed => Err(TokenError::Invalid),
    }
}
