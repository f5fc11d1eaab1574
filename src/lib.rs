#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod blacklist;
pub mod body;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod future;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub mod grpc;
pub mod issue;
pub mod jwks;
mod jwt;
mod jwt_layer;
pub mod keys;
mod lock;
pub mod refresh;
#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub mod remote;
pub mod store;
pub mod token;
mod transport;
pub mod verify;

pub use jsonwebtoken::Algorithm;
pub use jwt::{BuildError, Jwt, JwtBuilder};
pub use jwt_layer::JwtLayer;
