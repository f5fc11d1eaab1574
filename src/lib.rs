#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Core: no HTTP, no module above it.
pub mod clock;
pub mod config;
pub mod credentials;
pub mod future;
pub mod keys;
mod lock;
pub mod store;
pub mod token;

// Lifecycle: the operations of token management, typed.
pub mod lifecycle;
#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub mod remote;

// HTTP and integrations.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub mod grpc;
pub mod http;

pub use credentials::Subject;
pub use http::{ApiError, AuthLayer, JwtLayer};
pub use jsonwebtoken::Algorithm;
pub use lifecycle::{BuildError, Jwt, JwtBuilder, LifecycleError, Refreshed, TokenPair};
pub use token::Claims;
