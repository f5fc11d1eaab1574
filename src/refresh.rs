//! The refresh endpoint (`POST /api/token/refresh/`): a refresh token in, a new access token out.
//!
//! With rotation on, the answer also carries a new refresh token and the
//! presented one is rotated in the token store (see [`store`](crate::store)
//! for the family rules: the grace window, reuse detection, unrecorded
//! tokens). Without rotation, the presented token must simply not be
//! blacklisted.
//!
//! # Examples
//!
//! ```
//! use tower_simplejwt::config::JwtConfig;
//! use tower_simplejwt::credentials::{MemoryUserStore, PasswordAuthenticator, PasswordHasher};
//! use tower_simplejwt::refresh::RefreshLayer;
//! use tower_simplejwt::Jwt;
//!
//! let jwt = Jwt::builder(JwtConfig::simplejwt_guide("a long random secret, 32 bytes or more"))
//!     .authenticator(PasswordAuthenticator::new(MemoryUserStore::new(), PasswordHasher::default()))
//!     .build()
//!     .unwrap();
//! let layer = RefreshLayer::new(jwt);
//! # let _ = tower::ServiceBuilder::new().layer(layer);
//! ```

use serde_json::{json, Value};

use crate::endpoint::{EndpointLayer, EndpointService, Refresh};
use crate::error::{ApiError, TokenError};
use crate::store::{
    seal, RecordedToken, Rotation, RotationOutcome, StoreError, TokenState, CLOCK_SKEW_MARGIN,
};
use crate::token::{Claims, Expected, MintedToken, TokenKind, UserIdClaim};
use crate::Jwt;

/// Answers the refresh endpoint; see the [module documentation](self).
pub type RefreshLayer = EndpointLayer<Refresh>;
/// The service of [`RefreshLayer`].
pub type RefreshService<S> = EndpointService<Refresh, S>;

/// The subject a refresh token names, as recorded in the store ("" when it names none).
pub(crate) fn subject_of(claims: &Claims) -> &str {
    claims.subject().unwrap_or("")
}

pub(crate) async fn refresh(jwt: &Jwt, token: &str) -> Result<Value, ApiError> {
    let claims = jwt
        .codec()
        .verify(token, Expected::Kind(TokenKind::Refresh))?;
    let exchanged = exchange(jwt, &claims, token).await?;
    Ok(match exchanged.refresh {
        Some(refresh) => json!({"access": exchanged.access.token, "refresh": refresh}),
        None => json!({"access": exchanged.access.token}),
    })
}

/// What a verified refresh token is exchanged for.
#[derive(Debug)]
pub(crate) struct Exchanged {
    /// A new access token.
    pub(crate) access: MintedToken,
    /// The successor refresh token, when refresh tokens rotate.
    pub(crate) refresh: Option<String>,
}

/// The store's record of a verified refresh token, kept as long as the
/// configured leeway may still accept it. Every token of its family was
/// minted by now, so none is kept past now + the refresh lifetime + leeway +
/// margin: a family revoked through it is kept that long.
pub(crate) fn recorded(jwt: &Jwt, jti: &str, subject: &str, exp: u64) -> RecordedToken {
    let config = jwt.config();
    let family_until = jwt
        .clock()
        .now()
        .saturating_add(config.refresh_token_lifetime.as_secs())
        .saturating_add(config.leeway.as_secs())
        .saturating_add(CLOCK_SKEW_MARGIN.as_secs());
    RecordedToken::new(jti, subject, exp)
        .with_leeway(config.leeway)
        .with_family_until(family_until)
}

/// Exchanges a verified refresh token (`claims` read from `token`), as the
/// refresh endpoint and automatic refresh both do: the user must still be
/// able to log in, and the token is rotated (or, without rotation, must not
/// be blacklisted).
///
/// With a grace window, the successor is handed to the store sealed with
/// the presented token (see [`seal`]), and a replayed one is opened with it:
/// the store never holds a successor that refreshes on its own.
pub(crate) async fn exchange(
    jwt: &Jwt,
    claims: &Claims,
    token: &str,
) -> Result<Exchanged, ApiError> {
    check_subject(jwt, claims).await?;
    let access = jwt.codec().mint_access_from(claims)?;
    if !jwt.config().rotate_refresh_tokens {
        let state = jwt.store().state(subject_of(claims), &claims.jti).await?;
        if refused(jwt, state) {
            return Err(TokenError::Blacklisted.into());
        }
        return Ok(Exchanged {
            access,
            refresh: None,
        });
    }
    let successor = jwt.codec().mint_successor(claims)?;
    let rules = jwt.rotation_rules();
    let sealed_successor = if rules.reuse_grace.is_zero() || !rules.blacklist_after_rotation {
        None
    } else {
        Some(
            seal::seal(token, &claims.jti, &successor.token).map_err(|error| {
                tracing::error!(%error, "successor sealing failed");
                ApiError::Internal
            })?,
        )
    };
    let rotation = Rotation {
        presented: recorded(jwt, &claims.jti, subject_of(claims), claims.exp),
        successor: recorded(
            jwt,
            &successor.claims.jti,
            subject_of(claims),
            successor.claims.exp,
        ),
        sealed_successor,
        rules,
    };
    let refresh = match jwt.store().rotate(rotation, jwt.clock().clone()).await? {
        RotationOutcome::Rotated => successor.token,
        RotationOutcome::Replayed { sealed_successor } => {
            seal::open(token, &claims.jti, &sealed_successor).map_err(|error| {
                StoreError::Corrupt(format!("replay of {}: {error}", claims.jti))
            })?
        }
        RotationOutcome::Refused(reason) => {
            tracing::info!(jti = %claims.jti, ?reason, "refresh token refused");
            return Err(TokenError::Blacklisted.into());
        }
    };
    Ok(Exchanged {
        access,
        refresh: Some(refresh),
    })
}

/// Whether a token in `state` is refused where it is not rotated.
fn refused(jwt: &Jwt, state: TokenState) -> bool {
    state.is_refused_by_verify()
        || (state == TokenState::Unknown && !jwt.config().accept_unrecorded_refresh_tokens)
}

/// The user named by the token must exist and be active. A token that names
/// no user passes, as in the reference. A blacklisted token is reported as
/// blacklisted first, as the reference checks the blacklist before the user.
async fn check_subject(jwt: &Jwt, claims: &Claims) -> Result<(), ApiError> {
    let usable = match &claims.user_id {
        UserIdClaim::Missing => return Ok(()),
        UserIdClaim::Unusable => false,
        UserIdClaim::Id(id) => match jwt.authenticator().subject(id).await? {
            Some(subject) => subject.is_active || !jwt.config().check_user_is_active,
            None => false,
        },
    };
    if usable {
        return Ok(());
    }
    let state = jwt.store().state(subject_of(claims), &claims.jti).await?;
    if state.is_refused_by_verify() {
        return Err(TokenError::Blacklisted.into());
    }
    Err(ApiError::NoActiveAccountForToken)
}
