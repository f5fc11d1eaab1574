//! Fetching an issuer's documents over HTTPS, and reading its keys.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyOperations, PublicKeyUse};

use super::RemoteError;
use crate::keys::Key;

pub(crate) type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The largest document read from an issuer.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// A client that speaks HTTPS only, unless plain HTTP is allowed (tests).
pub(crate) fn client(allow_plain_http: bool) -> HttpsClient {
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots();
    let builder = match allow_plain_http {
        true => builder.https_or_http(),
        false => builder.https_only(),
    };
    Client::builder(TokioExecutor::new()).build(builder.enable_http1().build())
}

/// Checks that `url` (a document of `issuer`) is an absolute `https://` URL,
/// or an `http://` one when plain HTTP is allowed: a key fetched over plain
/// HTTP can be replaced by anyone on the path (RFC 8414 §2, OpenID
/// Connect Discovery §3).
pub(crate) fn check_url(
    issuer: &str,
    url: &str,
    allow_plain_http: bool,
) -> Result<(), RemoteError> {
    let uri: http::Uri = url.parse().map_err(|error| RemoteError::Fetch {
        issuer: issuer.to_owned(),
        url: url.to_owned(),
        cause: format!("bad URL: {error}"),
    })?;
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let http = uri.scheme() == Some(&http::uri::Scheme::HTTP);
    if uri.host().is_some() && (https || (http && allow_plain_http)) {
        return Ok(());
    }
    Err(RemoteError::InsecureUrl {
        issuer: issuer.to_owned(),
        url: url.to_owned(),
    })
}

/// The body of a successful GET of `url`, at most 1 MiB.
pub(crate) async fn get(
    client: &HttpsClient,
    url: &str,
    timeout: Duration,
) -> Result<Bytes, String> {
    let uri: http::Uri = url.parse().map_err(|error| format!("bad URL: {error}"))?;
    let request = http::Request::get(uri)
        .body(Empty::new())
        .map_err(|error| error.to_string())?;
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|error| error.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let body = tokio::time::timeout(
        timeout,
        Limited::new(response.into_body(), MAX_DOCUMENT_BYTES).collect(),
    )
    .await
    .map_err(|_| "timed out".to_owned())?
    .map_err(|error| error.to_string())?;
    Ok(body.to_bytes())
}

/// The keys of a JWKS document that verify signatures; the others (keys for
/// encryption, keys whose `key_ops` leave out `verify`, keys we cannot
/// read) are skipped with a log line.
pub(crate) fn verifying_keys(issuer: &str, jwks: &JwkSet) -> Vec<Key> {
    jwks.keys
        .iter()
        .filter(|jwk| match refusal_of(jwk) {
            None => true,
            Some(reason) => {
                tracing::debug!(%issuer, kid = ?jwk.common.key_id, reason, "a published key is skipped");
                false
            }
        })
        .filter_map(|jwk| match Key::from_jwk(jwk) {
            Ok(key) => Some(key),
            Err(error) => {
                tracing::warn!(%issuer, %error, "a published key is skipped");
                None
            }
        })
        .collect()
}

/// Why a published key must not verify signatures (RFC 7517 §4.2, §4.3):
/// `use` other than `sig`, or `key_ops` without `verify`.
pub(crate) fn refusal_of(jwk: &Jwk) -> Option<&'static str> {
    if let Some(usage) = &jwk.common.public_key_use {
        if *usage != PublicKeyUse::Signature {
            return Some("its `use` is not `sig`");
        }
    }
    if let Some(operations) = &jwk.common.key_operations {
        if !operations.contains(&KeyOperations::Verify) {
            return Some("its `key_ops` do not include `verify`");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(extra: serde_json::Value) -> Jwk {
        let mut document = serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        });
        if let (Some(object), serde_json::Value::Object(extra)) = (document.as_object_mut(), extra)
        {
            object.extend(extra);
        }
        serde_json::from_value(document).unwrap()
    }

    #[test]
    fn only_https_urls_unless_plain_http_is_allowed() {
        let issuer = "https://auth.example";
        assert_eq!(
            check_url(issuer, "https://auth.example/jwks.json", false),
            Ok(())
        );
        for url in [
            "http://auth.example/jwks.json",
            "HTTP://auth.example/jwks.json",
            "ftp://auth.example/k",
            "/jwks.json",
            "auth.example/jwks.json",
        ] {
            assert!(
                matches!(
                    check_url(issuer, url, false),
                    Err(RemoteError::InsecureUrl { .. }) | Err(RemoteError::Fetch { .. })
                ),
                "{url} must be refused"
            );
        }
        assert_eq!(
            check_url(issuer, "http://auth.example/jwks.json", false),
            Err(RemoteError::InsecureUrl {
                issuer: issuer.into(),
                url: "http://auth.example/jwks.json".into()
            })
        );
        assert_eq!(
            check_url(issuer, "http://127.0.0.1:9/jwks.json", true),
            Ok(())
        );
        assert!(check_url(issuer, "ftp://auth.example/k", true).is_err());
    }

    #[test]
    fn keys_for_encryption_or_other_operations_do_not_verify() {
        assert_eq!(refusal_of(&jwk(serde_json::json!({}))), None);
        assert_eq!(refusal_of(&jwk(serde_json::json!({"use": "sig"}))), None);
        assert_eq!(
            refusal_of(&jwk(serde_json::json!({"key_ops": ["verify"]}))),
            None
        );
        assert_eq!(
            refusal_of(&jwk(serde_json::json!({"key_ops": ["sign", "verify"]}))),
            None
        );
        assert!(refusal_of(&jwk(serde_json::json!({"use": "enc"}))).is_some());
        assert!(refusal_of(&jwk(serde_json::json!({"use": "other"}))).is_some());
        assert!(refusal_of(&jwk(serde_json::json!({"key_ops": ["encrypt"]}))).is_some());
        assert!(refusal_of(&jwk(serde_json::json!({"key_ops": []}))).is_some());
        assert!(refusal_of(&jwk(serde_json::json!({"use": "sig", "key_ops": ["sign"]}))).is_some());

        let set = JwkSet {
            keys: vec![
                jwk(serde_json::json!({"kid": "verifies"})),
                jwk(serde_json::json!({"kid": "encrypts", "use": "enc"})),
                jwk(serde_json::json!({"kid": "wraps", "key_ops": ["wrapKey"]})),
            ],
        };
        let kids: Vec<_> = verifying_keys("https://auth.example", &set)
            .iter()
            .map(|key| key.kid().map(str::to_owned))
            .collect();
        assert_eq!(kids, [Some("verifies".to_owned())]);
    }
}
