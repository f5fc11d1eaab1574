//! Tokens of trusted remote issuers (feature `remote-jwks`): verified with
//! their keys, never looked up in the local user store.

use std::sync::Arc;

use super::future::Authenticated;
use super::subject::{active_subject, user_id_of};
use super::verdict::Verdict;
use crate::credentials::Subject;
use crate::http::ApiError;
use crate::remote::{Issuer, RemoteIssuers};
use crate::token::{Claims, Expected, TokenError, TokenKind};
use crate::Jwt;

/// The verdict on a token another issuer may have signed; `None` when no
/// configured issuer claims it.
pub(super) fn remote_verdict(remote: &RemoteIssuers, token: &str) -> Option<Verdict> {
    let expected = Expected::Kind(TokenKind::Access);
    // A token verified before needs no reading of its `iss`, while the
    // issuer's keys are not too old.
    let issuer = match remote.verify_remembered(token, expected) {
        Some((issuer, verified)) if !issuer.keys_expired() => {
            return Some(remote_subject_verdict(issuer, verified))
        }
        Some((issuer, _)) => issuer,
        None => remote.issuer_of(token)?,
    };
    // The keys are looked at before verifying: keys swapped in between then
    // only send the request through the (no-op) refetch.
    if issuer.needs_refetch_for(token) {
        return Some(Verdict::Refetch {
            issuer: issuer.clone(),
            token: token.to_owned(),
        });
    }
    Some(remote_subject_verdict(
        issuer,
        issuer.verify(token, expected),
    ))
}

/// A verified remote token's subject to resolve, or the contract's refusal.
fn remote_subject_verdict(issuer: &Arc<Issuer>, verified: Result<Claims, TokenError>) -> Verdict {
    match verified {
        Ok(claims) => Verdict::Remote {
            issuer: issuer.clone(),
            claims,
        },
        Err(error) => Verdict::Refuse(ApiError::AccessTokenRefused(error)),
    }
}

/// Who a verified remote token authenticates: the issuer's subject, or the
/// local user the issuer's mapping names for it. The local user store is
/// never asked about a remote id.
pub(super) async fn remote_subject(
    jwt: &Jwt,
    issuer: &Issuer,
    claims: Claims,
) -> Result<Authenticated, ApiError> {
    let remote = Subject::remote(issuer.name(), user_id_of(&claims)?);
    let local = match issuer.subject_mapping() {
        Some(mapping) => mapping.local_subject(&remote, &claims).await?,
        None => None,
    };
    Ok(match local {
        Some(local) => Authenticated {
            subject: Subject {
                issuer: None,
                ..active_subject(jwt, Ok(Some(local)))?
            },
            mapped_from: Some(remote),
            claims,
            issued: None,
        },
        None => Authenticated {
            subject: remote,
            mapped_from: None,
            claims,
            issued: None,
        },
    })
}
