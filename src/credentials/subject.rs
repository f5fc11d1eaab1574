//! Who a token is issued to: [`Subject`], and the remote forms the
//! authentication layer puts in request extensions.

use serde_json::{Map, Value};

use super::User;
use crate::token::Claims;

/// The user a token is (or will be) issued to, and the issuer that vouches
/// for it.
///
/// A subject's id is unique only within its issuer (RFC 7519 §4.1.2): the
/// local user `"1"` and user `"1"` of another issuer are different people.
/// [`issuer`](Self::issuer) tells them apart: `None` for our own users (what
/// an [`Authenticator`](super::Authenticator) returns), the other issuer's `iss` for the subject of
/// a token that issuer signed (feature `remote-jwks`). The authentication
/// layer never puts a remote subject in the request extensions as a
/// `Subject`: it goes there as a [`RemoteSubject`].
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::Subject;
///
/// let subject = Subject::new("1", "alice", true);
/// assert_eq!(subject.id, "1");
/// assert!(subject.extra_claims.is_empty());
/// assert!(subject.is_local());
///
/// let remote = Subject::remote("https://auth.example", "1");
/// assert_eq!(remote.issuer.as_deref(), Some("https://auth.example"));
/// assert_ne!(remote, Subject::new("1", "", true), "same id, another issuer");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// The user id claim's value.
    pub id: String,
    /// The login name.
    pub username: String,
    /// Inactive subjects cannot log in and their tokens are refused.
    pub is_active: bool,
    /// Custom claims put into the refresh token at login (and so into every
    /// access token minted from it), such as `"role"`.
    pub extra_claims: Map<String, Value>,
    /// Who vouches for this subject: `None` for a local user, the `iss` of
    /// another issuer for that issuer's subject.
    pub issuer: Option<String>,
}

impl Subject {
    /// A local subject with no extra claims.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::Subject;
    ///
    /// let subject = Subject::new("1", "alice", true);
    /// assert_eq!(subject.issuer, None);
    /// ```
    pub fn new(id: impl Into<String>, username: impl Into<String>, is_active: bool) -> Self {
        Subject {
            id: id.into(),
            username: username.into(),
            is_active,
            extra_claims: Map::new(),
            issuer: None,
        }
    }

    /// The subject `id` of another issuer (`iss`): active, with no username
    /// (the issuer's claims are in the request's [`RemoteClaims`]) and no extra claims.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::Subject;
    ///
    /// let subject = Subject::remote("https://auth.example", "42");
    /// assert_eq!(subject.id, "42");
    /// assert!(!subject.is_local());
    /// ```
    pub fn remote(issuer: impl Into<String>, id: impl Into<String>) -> Self {
        Subject {
            issuer: Some(issuer.into()),
            ..Subject::new(id, "", true)
        }
    }

    /// Whether this is one of our own users (no other issuer vouches for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::Subject;
    ///
    /// assert!(Subject::new("1", "alice", true).is_local());
    /// assert!(!Subject::remote("https://auth.example", "1").is_local());
    /// ```
    pub fn is_local(&self) -> bool {
        self.issuer.is_none()
    }
}

/// The subject of an access token another issuer signed (feature
/// `remote-jwks`), as the authentication layer puts it in the request
/// extensions. Its [`Subject::issuer`] is always set.
///
/// It is a type of its own so that code reading the local [`Subject`] (the
/// axum extractor, `RequestAuth::subject` for tonic,
/// `extensions().get::<Subject>()`) never mistakes another issuer's user
/// `"1"` for the local user `"1"`. A request carries a `Subject` too only
/// when the issuer's subject mapping named a local user for it.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{RemoteSubject, Subject};
///
/// let mut extensions = http::Extensions::new();
/// extensions.insert(RemoteSubject(Subject::remote("https://auth.example", "1")));
/// assert!(extensions.get::<Subject>().is_none(), "not a local user");
/// let remote = extensions.get::<RemoteSubject>().unwrap();
/// assert_eq!(remote.0.issuer.as_deref(), Some("https://auth.example"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSubject(pub Subject);

/// The verified claims of an access token another issuer signed (feature
/// `remote-jwks`), as the authentication layer puts them in the request
/// extensions, with the `iss` of that issuer.
///
/// A type of its own for the same reason as [`RemoteSubject`]: the
/// [`Claims`] in the extensions (the axum `Claims<E>` extractor,
/// `RequestAuth::claims` for tonic, `extensions().get::<Claims>()`) are
/// only ever those of a token we issued, so a handler reading
/// `claims.user_id` or role claims from `Claims<Role>` never takes another
/// issuer's user `"1"` or roles for ours. A remote token's claims stay
/// `RemoteClaims` even when the issuer's subject mapping named a local user:
/// the `Subject` is then ours, the claims are still the issuer's.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::RemoteClaims;
/// use tower_simplejwt::token::Claims;
///
/// fn remote_role(extensions: &http::Extensions) -> Option<String> {
///     let remote = extensions.get::<RemoteClaims>()?;
///     // Whose claims these are decides what they may grant here.
///     if remote.issuer != "https://auth.example" {
///         return None;
///     }
///     remote.claims.extra.get("role")?.as_str().map(str::to_owned)
/// }
///
/// let extensions = http::Extensions::new();
/// assert!(extensions.get::<Claims>().is_none());
/// assert_eq!(remote_role(&extensions), None);
/// ```
#[derive(Debug, Clone)]
pub struct RemoteClaims {
    /// The `iss` of the issuer that signed the token.
    pub issuer: String,
    /// The token's verified claims.
    pub claims: Claims,
}

impl From<User> for Subject {
    fn from(user: User) -> Self {
        Subject::new(user.id, user.username, user.is_active)
    }
}
