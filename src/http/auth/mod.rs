//! [`AuthLayer`]: authenticates requests with an access token.
//!
//! The access token is read from the `Authorization` header (`Bearer
//! <token>`; the header name and scheme come from the configuration) and
//! verified; its user must exist and be active. On success the verified
//! [`Claims`](crate::token::Claims) and the [`Subject`](crate::credentials::Subject)
//! are put into the request's extensions and the request goes on. On failure
//! the layer answers itself with the contract's 401 (never an error of the
//! inner service), so no `HandleErrorLayer` is needed:
//!
//! | request | answer |
//! | --- | --- |
//! | no header, or another scheme | `{"detail":"Authentication credentials were not provided."}` (or, with [`AuthLayer::optional`], passed on unauthenticated) |
//! | `Bearer` alone, or more than one value | `bad_authorization_header` |
//! | an invalid, expired or refresh token | "Given token not valid for any token type" with the reason |
//! | no user id claim / unknown user / inactive user | `token_not_valid` / `user_not_found` / `user_inactive` |
//! | the user store cannot answer | 503 `service_unavailable` |
//!
//! A token of a trusted remote issuer (feature `remote-jwks`, see
//! module `remote`) is verified with that issuer's keys and never
//! looked up in the local user store: its subject goes into the extensions
//! as a [`RemoteSubject`](crate::credentials::RemoteSubject), not as a
//! `Subject`, unless the issuer's subject mapping names a local user; its
//! claims go there as [`RemoteClaims`](crate::credentials::RemoteClaims),
//! never as `Claims`, mapped or not.
//!
//! # Examples
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//! use tower_simplejwt::AuthLayer;
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore};
//! use tower_simplejwt::Jwt;
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let users = MemoryUserStore::new();
//! users.create("alice", "unused", true).await.unwrap();
//! let jwt = Jwt::builder(JwtConfig::new("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let access = jwt.codec().mint_pair("1", &serde_json::Map::new()).unwrap().access.token;
//!
//! let app = ServiceBuilder::new()
//!     .layer(AuthLayer::new(jwt))
//!     .service(service_fn(|request: Request<Full<bytes::Bytes>>| async move {
//!         let subject = request.extensions().get::<Subject>().unwrap();
//!         Ok::<_, Infallible>(Response::new(Full::from(subject.username.clone())))
//!     }));
//!
//! let request = Request::get("/api/me/")
//!     .header("authorization", format!("Bearer {access}"))
//!     .body(Full::default())
//!     .unwrap();
//! assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 200);
//!
//! let anonymous = Request::get("/api/me/").body(Full::default()).unwrap();
//! assert_eq!(app.oneshot(anonymous).await.unwrap().status(), 401);
//! # });
//! ```

mod future;
mod header;
mod layer;
#[cfg(feature = "remote-jwks")]
mod remote;
mod service;
mod subject;
mod verdict;

pub use future::ResponseFuture;
pub use layer::AuthLayer;
pub use service::AuthService;
