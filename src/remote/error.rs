use crate::config::ConfigError;

/// An issuer cannot be trusted as configured, or its keys could not be had.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::remote::RemoteError;
///
/// let error = RemoteError::InsecureUrl {
///     issuer: "https://auth.example".into(),
///     url: "http://auth.example/jwks.json".into(),
/// };
/// assert!(error.to_string().contains("https://"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The document could not be fetched or read.
    #[error("fetching the keys of issuer {issuer} from {url} failed: {cause}")]
    Fetch {
        /// The issuer.
        issuer: String,
        /// The URL fetched.
        url: String,
        /// Why it failed.
        cause: String,
    },
    /// A document of the issuer is not at an `https://` URL.
    #[error(
        "issuer {issuer}: {url} is not an https:// URL; keys fetched over plain HTTP can be \
         replaced by anyone on the path (RFC 8414 §2)"
    )]
    InsecureUrl {
        /// The issuer.
        issuer: String,
        /// The URL refused.
        url: String,
    },
    /// The discovery document names another issuer than the one asked
    /// (OpenID Connect Discovery §4.3).
    #[error("the discovery document of issuer {configured} names issuer {discovered}")]
    IssuerMismatch {
        /// The issuer configured (and whose discovery document was fetched).
        configured: String,
        /// The `issuer` the document gives.
        discovered: String,
    },
    /// No audience is required of the issuer's tokens, so tokens it minted
    /// for any other service would be accepted (RFC 8725 §3.9).
    #[error(
        "issuer {issuer} has no audience: tokens it minted for other services would be accepted; \
         set RemoteIssuer::with_audience (or waive it with danger_accept_any_audience)"
    )]
    MissingAudience {
        /// The issuer.
        issuer: String,
    },
    /// Two trusted issuers, or a trusted issuer and our own, share an `iss`:
    /// their tokens could not be told apart.
    #[error("issuer {issuer} is configured twice (or is our own issuer)")]
    AmbiguousIssuer {
        /// The issuer.
        issuer: String,
    },
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
}
