//! Mapping another issuer's subject to a local user: an explicit hook, never
//! an id match.

use crate::credentials::Subject;
use crate::credentials::UserStoreError;
use crate::future::BoxFuture;
use crate::token::Claims;

/// Names the local user, if any, that a remote issuer's subject is.
///
/// Without a mapping (the default), a remote token's subject reaches the
/// handler as a [`RemoteSubject`](crate::credentials::RemoteSubject) only,
/// and the local user store is never asked about it: the remote user `"1"`
/// is not the local user `"1"`. Give a mapping with
/// [`RemoteIssuer::with_subject_mapping`](super::RemoteIssuer::with_subject_mapping)
/// to serve some remote subjects as local users (accounts linked to an
/// identity provider, say). The mapping sees the verified claims and the
/// remote subject (whose [`issuer`](Subject::issuer) is set); it answers:
///
/// - `Ok(Some(user))`: the request is served as that local user (a
///   `Subject` with `issuer: None`, refused with "User is inactive" when
///   inactive and `check_user_is_active` is on), and the
///   `RemoteSubject` stays in the extensions beside it; the token's claims
///   stay [`RemoteClaims`](crate::credentials::RemoteClaims), never the
///   local `Claims` (they are the issuer's, not ours);
/// - `Ok(None)`: no local user; the request is served as the remote subject
///   alone, as without a mapping;
/// - `Err(_)`: the user store failed; the request gets the store's 503.
///
/// It is asked on every request a token of the issuer authenticates (the
/// verified-token cache spares the signature check, not this call): keep
/// it fast, or put a cache in it. A closure
/// `Fn(&Subject, &Claims) -> Option<Subject>` is a mapping.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::credentials::Subject;
/// use tower_simplejwt::remote::{RemoteIssuer, RemoteSubjectMapping};
/// use tower_simplejwt::credentials::UserStoreError;
/// use tower_simplejwt::future::BoxFuture;
/// use tower_simplejwt::token::Claims;
///
/// /// Remote users linked to local accounts in a table of ours.
/// struct LinkedAccounts;
///
/// impl RemoteSubjectMapping for LinkedAccounts {
///     fn local_subject<'a>(&'a self, remote: &'a Subject, _claims: &'a Claims)
///         -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
///         let linked = (remote.id == "google-oauth2|42").then(|| Subject::new("7", "carol", true));
///         Box::pin(async move { Ok(linked) })
///     }
/// }
///
/// let by_table = RemoteIssuer::new("https://a.example", "https://a.example/jwks.json")
///     .with_audience("api")
///     .with_subject_mapping(LinkedAccounts);
/// let by_closure = RemoteIssuer::new("https://b.example", "https://b.example/jwks.json")
///     .with_audience("api")
///     .with_subject_mapping(|remote: &Subject, _: &Claims| {
///         (remote.id == "admin@b").then(|| Subject::new("1", "alice", true))
///     });
/// # let _ = (by_table, by_closure);
/// ```
pub trait RemoteSubjectMapping: Send + Sync + 'static {
    /// The local user `remote` is, or `None` when it is no local user.
    fn local_subject<'a>(
        &'a self,
        remote: &'a Subject,
        claims: &'a Claims,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>>;
}

impl<F> RemoteSubjectMapping for F
where
    F: Fn(&Subject, &Claims) -> Option<Subject> + Send + Sync + 'static,
{
    fn local_subject<'a>(
        &'a self,
        remote: &'a Subject,
        claims: &'a Claims,
    ) -> BoxFuture<'a, Result<Option<Subject>, UserStoreError>> {
        Box::pin(std::future::ready(Ok(self(remote, claims))))
    }
}
