use std::fmt;
use std::sync::Arc;

use super::{LoginLimit, PasswordHasher, Subject, UserStore, UserStoreError};
use crate::future::BoxFuture;

/// Checks credentials and looks subjects up: the obtain endpoint and the
/// authentication layer go through it.
///
/// Implement it to log users in against your own user table, LDAP, or
/// anything else; [`PasswordAuthenticator`] covers a [`UserStore`].
/// Wrong credentials and unknown ids are `Ok(None)`; an `Err` is a failure,
/// and its [`UserStoreError`] variant says whose: a database that cannot
/// answer ([`UserStoreError::unavailable`]) is a `503` the client retries, a
/// fault of the server ([`UserStoreError::corrupt`],
/// [`UserStoreError::password_hash`]) a `500`.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::{Authenticator, Subject, UserStoreError};
/// use tower_simplejwt::future::BoxFuture;
///
/// #[derive(Debug)]
/// struct OneUser;
///
/// impl Authenticator for OneUser {
///     fn authenticate<'a>(&'a self, username: &'a str, password: &'a str)
///         -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
///         let ok = username == "admin" && password == "correct horse";
///         Box::pin(async move { Ok(ok.then(|| Subject::new("1", "admin", true))) })
///     }
///     fn subject<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
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
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>>;

    /// The subject with this id, or `None` when there is none.
    fn subject<'a>(&'a self, id: &'a str)
        -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>>;

    /// The answer of [`subject`](Self::subject) when it is at hand without
    /// waiting (users in memory), else `None` and the layer awaits
    /// `subject`. The authentication layer asks on every request, so an
    /// in-memory implementation saves the future's allocations here.
    fn subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
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
/// [`UserStoreError::Overloaded`] before the user store is asked, which the
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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
    ///
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// assert_eq!(authenticator.login_limit().max_in_flight(), 256);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
    ///
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// assert_eq!(authenticator.login_limit().budget_kib(), 256 * 1024);
    /// ```
    pub fn login_limit(&self) -> &LoginLimit {
        &self.limit
    }

    /// The user store.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// authenticator.users().create("alice", "hash", true).await.unwrap();
    /// assert!(authenticator.users().find_by_id("1").await.unwrap().is_some());
    /// # });
    /// ```
    pub fn users(&self) -> &U {
        &self.users
    }

    /// The password hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
    ///
    /// let authenticator = PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default());
    /// let hash = authenticator.hasher().hash("wonderland-42").unwrap();
    /// assert!(hash.starts_with("$argon2id$"));
    /// ```
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }
}

impl<U: UserStore> Authenticator for PasswordAuthenticator<U> {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
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
            .map_err(UserStoreError::password_hash)?;
            Ok(user.filter(|_| matches).map(Subject::from))
        })
    }

    fn subject<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        self.users.find_subject(id)
    }

    fn subject_now(&self, id: &str) -> Option<Result<Option<Subject>, UserStoreError>> {
        self.users.find_subject_now(id)
    }
}

/// A saturated login limit, as the obtain endpoint's `503 service_unavailable`.
fn overloaded(saturated: super::login_limit::Saturated) -> UserStoreError {
    UserStoreError::overloaded(saturated)
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
