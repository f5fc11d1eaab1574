use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{LoginLimit, PasswordHasher, User, UserStore};
use crate::store::{BoxFuture, StoreError};
use crate::token::Claims;

/// The user a token is (or will be) issued to, and the issuer that vouches
/// for it.
///
/// A subject's id is unique only within its issuer (RFC 7519 §4.1.2): the
/// local user `"1"` and user `"1"` of another issuer are different people.
/// [`issuer`](Self::issuer) tells them apart: `None` for our own users (what
/// an [`Authenticator`] returns), the other issuer's `iss` for the subject of
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

/// Checks credentials and looks subjects up: the obtain endpoint and the
/// authentication layer go through it.
///
/// Implement it to log users in against your own user table, LDAP, or
/// anything else; [`PasswordAuthenticator`] covers a [`UserStore`].
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{Authenticator, Subject};
/// use tower_simplejwt::store::{BoxFuture, StoreError};
///
/// #[derive(Debug)]
/// struct OneUser;
///
/// impl Authenticator for OneUser {
///     fn authenticate<'a>(&'a self, username: &'a str, password: &'a str)
///         -> BoxFuture<'a, Result<Option<Subject>, StoreError>> {
///         let ok = username == "admin" && password == "correct horse";
///         Box::pin(async move { Ok(ok.then(|| Subject::new("1", "admin", true))) })
///     }
///     fn subject<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Subject>, StoreError>> {
///         Box::pin(async move { Ok((id == "1").then(|| Subject::new("1", "admin", true))) })
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + fmt::Debug + 'static {
    /// The subject whose credentials these are, or `None` when they are wrong.
    ///
    /// Inactive subjects may be returned; the obtain endpoint refuses them
    /// with the same answer as wrong credentials.
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, StoreError>>;

    /// The subject with this id, or `None` when there is none.
    fn subject<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Subject>, StoreError>>;

    /// The answer of [`subject`](Self::subject) when it is at hand without
    /// waiting (users in memory), else `None` and the layer awaits
    /// `subject`. The authentication layer asks on every request, so an
    /// in-memory implementation saves the future's allocations here.
    fn subject_now(&self, id: &str) -> Option<Result<Option<Subject>, StoreError>> {
        let _ = id;
        None
    }
}

/// An [`Authenticator`] over a [`UserStore`] and a [`PasswordHasher`].
///
/// Password checks run on tokio's blocking pool, within a [`LoginLimit`]:
/// a memory budget for the checks running at once (256 MiB by default, 13
/// checks with the default argon2 parameters) and a bound on the logins
/// served at once (256 by default). Logins beyond it are refused with
/// [`StoreError::Overloaded`] before the user store is asked, which the
/// obtain endpoint answers `503 service_unavailable` with `Retry-After: 1`:
/// a flood of logins, with or without real usernames, cannot exhaust
/// memory. An unknown username, and a user whose stored hash cannot match
/// (Django's unusable `!…`, an unsupported algorithm), costs one
/// verification of the slowest kind of hash the store has returned, and is
/// charged its memory (see
/// [`PasswordHasher::verify_dummy`]), and a wrong password against a
/// cheaper hash is padded up to it (see [`PasswordHasher::verify`]), so
/// response times do not reveal which usernames exist.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{Authenticator, MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore};
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let hasher = PasswordHasher::default();
/// let users = MemoryUserStore::new();
/// users.create("alice", &hasher.hash("wonderland-42").unwrap(), true).await.unwrap();
/// let authenticator = PasswordAuthenticator::new(users, hasher);
/// assert!(authenticator.authenticate("alice", "wonderland-42").await.unwrap().is_some());
/// assert!(authenticator.authenticate("alice", "nope").await.unwrap().is_none());
/// assert!(authenticator.authenticate("nobody", "nope").await.unwrap().is_none());
/// # });
/// ```
#[derive(Debug)]
pub struct PasswordAuthenticator<U> {
    users: Arc<U>,
    hasher: PasswordHasher,
    limit: LoginLimit,
}

impl<U> Clone for PasswordAuthenticator<U> {
    fn clone(&self) -> Self {
        PasswordAuthenticator {
            users: self.users.clone(),
            hasher: self.hasher.clone(),
            limit: self.limit.clone(),
        }
    }
}

impl<U: UserStore> PasswordAuthenticator<U> {
    /// Authenticates against `users`, checking passwords with `hasher`
    /// within the default [`LoginLimit`].
    pub fn new(users: U, hasher: PasswordHasher) -> Self {
        PasswordAuthenticator {
            users: Arc::new(users),
            hasher,
            limit: LoginLimit::default(),
        }
    }

    /// Checks passwords within `limit` instead of the default one.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{LoginLimit, MemoryUserStore, PasswordAuthenticator, PasswordHasher};
    ///
    /// // 64 MiB for password checks at once, at most 16 logins served at once.
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default())
    ///     .with_login_limit(LoginLimit::new(64 * 1024 * 1024, 16));
    /// assert_eq!(authenticator.login_limit().budget_kib(), 64 * 1024);
    /// ```
    pub fn with_login_limit(mut self, limit: LoginLimit) -> Self {
        self.limit = limit;
        self
    }

    /// The limit password checks run within.
    pub fn login_limit(&self) -> &LoginLimit {
        &self.limit
    }

    /// The user store.
    pub fn users(&self) -> &U {
        &self.users
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }
}

impl<U: UserStore> Authenticator for PasswordAuthenticator<U> {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, StoreError>> {
        Box::pin(async move {
            // Admitted before the user store is asked: a flood of logins
            // is refused before it reaches the database or the hasher.
            let admission = self.limit.admit().map_err(overloaded)?;
            let user = self.users.find_by_username(username).await?;
            let hasher = self.hasher.clone();
            let password = password.to_owned();
            let stored = user.as_ref().map(|user| user.password_hash.clone());
            // The dummy (for an unknown user, or a hash that cannot be
            // verified) is chosen now, so that the memory reserved is its own.
            let (dummy, cost_kib) = hasher.check_plan(stored.as_deref());
            let permit = self
                .limit
                .room_for(admission, cost_kib)
                .await
                .map_err(overloaded)?;
            let memory = self.limit.memory().clone();
            let matches = tokio::task::spawn_blocking(move || {
                // Held until the hash is computed, even if the login was
                // cancelled meanwhile: the memory is in use until then.
                let _permit = permit;
                match (stored, dummy) {
                    (_, Some(dummy)) => {
                        hasher.verify_dummy_with(&password, &dummy, &memory);
                        false
                    }
                    (Some(stored), None) => hasher.verify_with(&password, &stored, &memory),
                    (None, None) => false,
                }
            })
            .await
            .map_err(|error| StoreError::Unavailable(format!("password check failed: {error}")))?;
            Ok(user.filter(|_| matches).map(Subject::from))
        })
    }

    fn subject<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Subject>, StoreError>> {
        self.users.find_subject(id)
    }

    fn subject_now(&self, id: &str) -> Option<Result<Option<Subject>, StoreError>> {
        self.users.find_subject_now(id)
    }
}

/// A saturated login limit, as the obtain endpoint's `503 service_unavailable`.
fn overloaded(saturated: super::login_limit::Saturated) -> StoreError {
    StoreError::Overloaded(saturated.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use argon2::Params;

    use super::*;
    use crate::credentials::hash_shape::HashShape;
    use crate::credentials::MemoryUserStore;
    use crate::lock::lock;

    #[tokio::test]
    async fn a_user_whose_hash_cannot_match_is_checked_as_an_unknown_user() {
        let hasher = PasswordHasher::argon2id(8, 1, 1).unwrap();
        // The slowest shape seen, with more memory than the hasher's own.
        let slowest = HashShape::argon2id(&Params::new(64, 1, 1, None).unwrap());
        hasher.costs().record(&slowest, Duration::from_secs(5));
        let users = MemoryUserStore::new();
        users.create("unusable", "!unusable", true).await.unwrap();
        let authenticator = PasswordAuthenticator::new(users, hasher.clone());
        assert_eq!(hasher.check_plan(None), (Some(slowest.clone()), 64));
        assert_eq!(
            hasher.check_plan(Some("!unusable")),
            (Some(slowest.clone()), 64)
        );

        lock(&hasher.costs().recorded).clear();
        assert_eq!(
            authenticator.authenticate("nobody", "pw").await.unwrap(),
            None
        );
        let unknown_user_work = std::mem::take(&mut *lock(&hasher.costs().recorded));
        assert_eq!(unknown_user_work, vec![slowest]);
        assert_eq!(
            authenticator.authenticate("unusable", "pw").await.unwrap(),
            None
        );
        let unusable_work = std::mem::take(&mut *lock(&hasher.costs().recorded));
        assert_eq!(unusable_work, unknown_user_work);
    }
}
