//! Minting: new pairs, access tokens from refresh tokens, successors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::jti::new_jti;
use super::payload::ClaimNames;
use super::{Claims, TokenCodec, TokenKind, UserIdClaim};

/// A freshly minted token and its claims.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::token::TokenCodec;
///
/// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
/// let minted = codec.mint_pair("1", &serde_json::Map::new()).unwrap().refresh;
/// assert_eq!(minted.token.split('.').count(), 3);
/// assert_eq!(minted.claims.jti.len(), 32);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MintedToken {
    /// The encoded token.
    pub token: String,
    /// What it says.
    pub claims: Claims,
}

/// A refresh token and the access token minted from it.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::token::TokenCodec;
///
/// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
/// let pair = codec.mint_pair("1", &serde_json::Map::new()).unwrap();
/// assert_eq!(pair.access.claims.user_id, pair.refresh.claims.user_id);
/// assert_ne!(pair.access.claims.jti, pair.refresh.claims.jti);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: MintedToken,
    /// The access token, carrying the refresh token's subject and extra claims.
    pub access: MintedToken,
}

/// Signing failed: the key cannot sign (checked at construction, so this is not expected).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use tower_simplejwt::clock::SystemClock;
/// use tower_simplejwt::config::JwtConfig;
/// use tower_simplejwt::keys::KeySet;
/// use tower_simplejwt::token::TokenCodec;
///
/// let verifier = TokenCodec::with_key_set(&JwtConfig::default(), KeySet::verify_only([]).unwrap(), Arc::new(SystemClock)).unwrap();
/// let error = verifier.mint_pair("1", &serde_json::Map::new()).unwrap_err();
/// assert!(error.to_string().starts_with("token signing failed"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token signing failed: {0}")]
pub struct SignError(String);

impl TokenCodec {
    /// A new refresh token for `user_id` with `extra` claims, and its access token.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenCodec;
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let mut extra = serde_json::Map::new();
    /// extra.insert("role".into(), "admin".into());
    /// let pair = codec.mint_pair("1", &extra).unwrap();
    /// assert_eq!(pair.access.claims.extra["role"], "admin");
    /// ```
    pub fn mint_pair(
        &self,
        user_id: &str,
        extra: &Map<String, Value>,
    ) -> Result<TokenPair, SignError> {
        let refresh = self.mint_refresh(user_id, extra)?;
        let access = self.mint_access_from(&refresh.claims)?;
        Ok(TokenPair { refresh, access })
    }

    /// A new refresh token for `user_id` carrying `extra` claims.
    ///
    /// Extra claims named like a standard claim (`exp`, `jti`, the type or
    /// user id claim, and `aud`/`iss` when configured) are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::{TokenCodec, TokenKind};
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let mut extra = serde_json::Map::new();
    /// extra.insert("exp".into(), 1.into());
    /// let refresh = codec.mint_refresh("1", &extra).unwrap();
    /// assert_eq!(refresh.claims.kind(), Some(TokenKind::Refresh));
    /// assert!(refresh.claims.exp > 1, "an extra claim named `exp` is dropped");
    /// ```
    pub fn mint_refresh(
        &self,
        user_id: &str,
        extra: &Map<String, Value>,
    ) -> Result<MintedToken, SignError> {
        let claims = Claims {
            token_type: None,
            jti: String::new(),
            exp: 0,
            iat: None,
            nbf: None,
            user_id: UserIdClaim::Id(user_id.to_owned()),
            extra: extra.clone(),
        };
        self.mint(TokenKind::Refresh, &claims)
    }

    /// An access token carrying every claim of `refresh` except its type, `exp`, `iat` and `jti`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::{TokenCodec, TokenKind};
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let refresh = codec.mint_refresh("1", &serde_json::Map::new()).unwrap();
    /// let access = codec.mint_access_from(&refresh.claims).unwrap();
    /// assert_eq!(access.claims.kind(), Some(TokenKind::Access));
    /// assert_eq!(access.claims.subject(), Some("1"));
    /// ```
    pub fn mint_access_from(&self, refresh: &Claims) -> Result<MintedToken, SignError> {
        self.mint(TokenKind::Access, refresh)
    }

    /// The successor of a rotated refresh token: the same claims, a new `jti`, `iat` and `exp`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::config::JwtConfig;
    /// use tower_simplejwt::token::TokenCodec;
    ///
    /// let codec = TokenCodec::new(&JwtConfig::new("a long random secret, 32 bytes or more")).unwrap();
    /// let refresh = codec.mint_refresh("1", &serde_json::Map::new()).unwrap();
    /// let successor = codec.mint_successor(&refresh.claims).unwrap();
    /// assert_eq!(successor.claims.subject(), Some("1"));
    /// assert_ne!(successor.claims.jti, refresh.claims.jti);
    /// ```
    pub fn mint_successor(&self, refresh: &Claims) -> Result<MintedToken, SignError> {
        self.mint(TokenKind::Refresh, refresh)
    }

    fn mint(&self, kind: TokenKind, template: &Claims) -> Result<MintedToken, SignError> {
        let inner = &*self.inner;
        let now = self.now();
        let lifetime = match kind {
            TokenKind::Access => inner.access_lifetime,
            TokenKind::Refresh => inner.refresh_lifetime,
        };
        let mut extra = template.extra.clone();
        extra.retain(|name, _| !self.is_standard_claim(name));
        if let Some(audience) = &inner.audience {
            extra.insert("aud".into(), Value::String(audience.clone()));
        }
        if let Some(issuer) = &inner.issuer {
            extra.insert("iss".into(), Value::String(issuer.clone()));
        }
        let claims = Claims {
            token_type: Some(kind.as_str().to_owned()),
            jti: new_jti(),
            exp: now.saturating_add(lifetime),
            iat: Some(now),
            nbf: template.nbf,
            user_id: template.user_id.clone(),
            extra,
        };
        let payload = serde_json::to_vec(&Payload {
            names: &inner.names,
            claims: &claims,
        })
        .map_err(|error| SignError(error.to_string()))?;
        let keys = inner.keys.load();
        let mut token = String::with_capacity(keys.header().len() + payload.len() * 4 / 3 + 90);
        token.push_str(keys.header());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signing_key = keys
            .signing_key()
            .ok_or_else(|| SignError("this codec only verifies".into()))?;
        let signature = signing_key.sign(token.as_bytes()).map_err(SignError)?;
        token.push('.');
        token.push_str(&signature);
        Ok(MintedToken { token, claims })
    }

    fn is_standard_claim(&self, name: &str) -> bool {
        let names = &self.inner.names;
        matches!(name, "exp" | "iat" | "nbf")
            || name == names.jti
            || name == names.token_type
            || name == names.user_id
            || (name == "aud" && self.inner.audience.is_some())
            || (name == "iss" && self.inner.issuer.is_some())
    }
}

/// Claims serialized in the reference's order: type, `exp`, `iat`, `jti`, user id, then the rest.
struct Payload<'a> {
    names: &'a ClaimNames,
    claims: &'a Claims,
}

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let claims = self.claims;
        let mut map = serializer.serialize_map(None)?;
        if let Some(token_type) = &claims.token_type {
            map.serialize_entry(&self.names.token_type, token_type)?;
        }
        map.serialize_entry("exp", &claims.exp)?;
        if let Some(iat) = claims.iat {
            map.serialize_entry("iat", &iat)?;
        }
        map.serialize_entry(&self.names.jti, &claims.jti)?;
        if let UserIdClaim::Id(user_id) = &claims.user_id {
            map.serialize_entry(&self.names.user_id, user_id)?;
        }
        if let Some(nbf) = claims.nbf {
            map.serialize_entry("nbf", &nbf)?;
        }
        for (name, value) in &claims.extra {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}
