//! The boxed future the storage traits return.
//!
//! Token stores (the `store` module) and user stores (the `credentials`
//! module) are used as trait objects
//! (`Arc<dyn TokenStore>`, `Arc<dyn Authenticator>`), so their methods return
//! a boxed future. Both use this alias; neither imports the other.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future: what the storage traits return, so that they
/// can be used as trait objects.
///
/// # Examples
///
/// ```
/// use tower_simplejwt::future::BoxFuture;
///
/// fn answer<'a>(question: &'a str) -> BoxFuture<'a, usize> {
///     Box::pin(async move { question.len() })
/// }
/// # let _ = answer("why");
/// ```
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
