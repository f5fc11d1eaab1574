//! One trusted issuer, as configured.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

use super::fetch::{check_url, client, get};
use super::{RemoteError, RemoteSettings, RemoteSubjectMapping};
use crate::config::ConfigError;

/// An issuer whose tokens are trusted: its `iss`, where its keys are, the
/// audience its tokens must name, and how its subjects map to local users.
///
/// [`RemoteIssuers::start`](super::RemoteIssuers::start) refuses an issuer
/// without an audience (unless waived with
/// [`danger_accept_any_audience`](Self::danger_accept_any_audience)) and a
/// key URL that is not `https://` (unless
/// [`RemoteSettings::danger_allow_plain_http_for_tests`] is set).
///
/// # Examples
///
/// ```
/// use tower_simplejwt::remote::RemoteIssuer;
///
/// let issuer = RemoteIssuer::new("https://auth.example", "https://auth.example/jwks.json")
///     .with_audience("https://api.example");
/// assert_eq!(issuer.issuer(), "https://auth.example");
/// assert_eq!(issuer.audience(), Some("https://api.example"));
/// ```
#[derive(Clone)]
pub struct RemoteIssuer {
    pub(crate) issuer: String,
    pub(crate) jwks_url: String,
    pub(crate) audience: Option<String>,
    pub(crate) any_audience: bool,
    pub(crate) subject_mapping: Option<Arc<dyn RemoteSubjectMapping>>,
}

impl fmt::Debug for RemoteIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteIssuer")
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.jwks_url)
            .field("audience", &self.audience)
            .field("any_audience", &self.any_audience)
            .field("subject_mapping", &self.subject_mapping.is_some())
            .finish()
    }
}

/// Equal when they trust the same issuer the same way (the same mapping
/// object, if any).
impl PartialEq for RemoteIssuer {
    fn eq(&self, other: &Self) -> bool {
        let same_mapping = match (&self.subject_mapping, &other.subject_mapping) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)),
            _ => false,
        };
        self.issuer == other.issuer
            && self.jwks_url == other.jwks_url
            && self.audience == other.audience
            && self.any_audience == other.any_audience
            && same_mapping
    }
}

impl Eq for RemoteIssuer {}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl RemoteIssuer {
    /// Tokens with `iss` equal to `issuer`, verified with the keys at
    /// `jwks_url` (which must be `https://`; checked when the issuers start).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::remote::RemoteIssuer;
    ///
    /// let issuer = RemoteIssuer::new("https://auth.example", "https://auth.example/keys");
    /// assert_eq!(issuer.jwks_url(), "https://auth.example/keys");
    /// assert_eq!(issuer.audience(), None, "required before it starts");
    /// ```
    pub fn new(issuer: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        RemoteIssuer {
            issuer: issuer.into(),
            jwks_url: jwks_url.into(),
            audience: None,
            any_audience: false,
            subject_mapping: None,
        }
    }

    /// Finds the JWKS URL through `{issuer}/.well-known/openid-configuration`,
    /// over HTTPS: the document's `issuer` must be `issuer` exactly (OpenID
    /// Connect Discovery §4.3) and its `jwks_uri` an `https://` URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::remote::{RemoteError, RemoteIssuer};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Plain HTTP is refused before anything is sent.
    /// let refused = RemoteIssuer::discover("http://auth.example").await.unwrap_err();
    /// assert!(matches!(refused, RemoteError::InsecureUrl { .. }));
    /// # });
    /// ```
    pub async fn discover(issuer: &str) -> Result<Self, RemoteError> {
        Self::discover_with(issuer, &RemoteSettings::default()).await
    }

    /// [`discover`](Self::discover) with the fetch timeout and the
    /// plain-HTTP switch of `settings`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tower_simplejwt::remote::{RemoteIssuer, RemoteSettings};
    ///
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let settings = RemoteSettings { timeout: std::time::Duration::from_secs(2), ..RemoteSettings::default() };
    /// let issuer = RemoteIssuer::discover_with("https://auth.example", &settings).await?.with_audience("api");
    /// # let _ = issuer; Ok(()) }
    /// ```
    pub async fn discover_with(
        issuer: &str,
        settings: &RemoteSettings,
    ) -> Result<Self, RemoteError> {
        let allow_plain_http = settings.plain_http_allowed();
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        check_url(issuer, &url, allow_plain_http)?;
        let document = get(&client(allow_plain_http), &url, settings.timeout)
            .await
            .map_err(|cause| RemoteError::Fetch {
                issuer: issuer.to_owned(),
                url: url.clone(),
                cause,
            })?;
        Self::from_discovery(issuer, &url, &document, allow_plain_http)
    }

    /// The issuer a discovery document (fetched from `url` for `issuer`)
    /// describes, after checking it.
    pub(crate) fn from_discovery(
        issuer: &str,
        url: &str,
        document: &[u8],
        allow_plain_http: bool,
    ) -> Result<Self, RemoteError> {
        let discovery: Discovery =
            serde_json::from_slice(document).map_err(|error| RemoteError::Fetch {
                issuer: issuer.to_owned(),
                url: url.to_owned(),
                cause: error.to_string(),
            })?;
        if discovery.issuer != issuer {
            return Err(RemoteError::IssuerMismatch {
                configured: issuer.to_owned(),
                discovered: discovery.issuer,
            });
        }
        check_url(issuer, &discovery.jwks_uri, allow_plain_http)?;
        Ok(RemoteIssuer::new(discovery.issuer, discovery.jwks_uri))
    }

    /// Requires this audience (`aud`) of the issuer's tokens: the name the
    /// issuer gives this service. Tokens it minted for other services are
    /// refused (RFC 8725 §3.9).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::remote::RemoteIssuer;
    ///
    /// let issuer = RemoteIssuer::new("https://auth.example", "https://auth.example/keys").with_audience("api");
    /// assert_eq!(issuer.audience(), Some("api"));
    /// ```
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self.any_audience = false;
        self
    }

    /// Waives the audience check: every token of this issuer is accepted,
    /// whatever service it was minted for. Only for an issuer that mints
    /// tokens for this service alone; a warning is logged at start-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::remote::RemoteIssuer;
    ///
    /// let issuer = RemoteIssuer::new("https://sso.internal", "https://sso.internal/keys")
    ///     .danger_accept_any_audience();
    /// assert_eq!(issuer.audience(), None);
    /// ```
    pub fn danger_accept_any_audience(mut self) -> Self {
        self.audience = None;
        self.any_audience = true;
        self
    }

    /// Maps this issuer's subjects to local users; see
    /// [`RemoteSubjectMapping`]. Without it, no remote subject is ever
    /// served as a local user.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::Subject;
    /// use tower_simplejwt::remote::RemoteIssuer;
    /// use tower_simplejwt::token::Claims;
    ///
    /// let issuer = RemoteIssuer::new("https://auth.example", "https://auth.example/keys")
    ///     .with_audience("api")
    ///     .with_subject_mapping(|_: &Subject, _: &Claims| None);
    /// # let _ = issuer;
    /// ```
    pub fn with_subject_mapping(mut self, mapping: impl RemoteSubjectMapping) -> Self {
        self.subject_mapping = Some(Arc::new(mapping));
        self
    }

    /// The issuer (`iss`) this entry trusts.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::remote::RemoteIssuer;
    ///
    /// assert_eq!(RemoteIssuer::new("https://a.example", "https://a.example/k").issuer(), "https://a.example");
    /// ```
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where the issuer's keys are fetched from.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::remote::RemoteIssuer;
    ///
    /// assert_eq!(RemoteIssuer::new("https://a.example", "https://a.example/k").jwks_url(), "https://a.example/k");
    /// ```
    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    /// The audience required of the issuer's tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::remote::RemoteIssuer;
    ///
    /// let issuer = RemoteIssuer::new("https://a.example", "https://a.example/k").with_audience("api");
    /// assert_eq!(issuer.audience(), Some("api"));
    /// ```
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Checks what [`RemoteIssuers::start`](super::RemoteIssuers::start)
    /// requires before fetching anything.
    pub(crate) fn check(&self, settings: &RemoteSettings) -> Result<(), RemoteError> {
        if self.issuer.trim().is_empty() {
            return Err(
                ConfigError::Invalid("issuer", "a remote issuer's `iss` is empty".into()).into(),
            );
        }
        check_url(&self.issuer, &self.jwks_url, settings.plain_http_allowed())?;
        let no_audience = self
            .audience
            .as_deref()
            .is_none_or(|audience| audience.trim().is_empty());
        if no_audience && !self.any_audience {
            return Err(RemoteError::MissingAudience {
                issuer: self.issuer.clone(),
            });
        }
        if self.any_audience {
            tracing::warn!(issuer = %self.issuer, "the audience of this issuer's tokens is not checked");
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "issuer_tests.rs"]
mod tests;
