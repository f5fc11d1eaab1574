//! One rotation, inside the transaction the caller holds: the family's row
//! lock, then the presented token's, then the decision and the writes.

use super::rows::{family_of, insert, lock_family, lock_family_of, lock_token, update_family};
use super::{to_sql, unavailable, PostgresTokenStore};
use crate::clock::SharedClock;
use crate::store::rules::{next_step, stored_state, successor_until, Step};
use crate::store::{
    warn_reuse, Checkpoint, PauseHook, Refusal, Rotation, RotationOutcome, StoreError,
};

impl PostgresTokenStore {
    /// Rotates in the caller's transaction (see "Revocation against rotation").
    pub(super) async fn rotate_in(
        &self,
        connection: &mut sqlx::PgConnection,
        rotation: Rotation,
        clock: SharedClock,
    ) -> Result<RotationOutcome, StoreError> {
        let Rotation {
            presented,
            successor,
            sealed_successor,
            rules,
        } = rotation;
        PauseHook::at(&self.pause, Checkpoint::Begun).await;
        let (family, family_revoked) = match lock_family_of(connection, &presented.jti).await? {
            Some(locked) => locked,
            None => {
                let Some(family) = family_of(connection, &presented.jti)
                    .await?
                    .or_else(|| rules.accept_unrecorded.then(|| presented.jti.clone()))
                else {
                    return Ok(RotationOutcome::Refused(Refusal::Unrecorded));
                };
                // A family row created for tokens of an earlier version is
                // kept as long as any token of it (see `family_until`).
                let family_revoked = lock_family(
                    connection,
                    &family,
                    &presented.subject,
                    presented
                        .family_retained_until()
                        .max(successor.retained_until()),
                )
                .await?;
                (family, family_revoked)
            }
        };
        PauseHook::at(&self.pause, Checkpoint::FamilyLocked).await;
        let mut record = lock_token(connection, &presented.jti).await?;
        if record.is_none() && rules.accept_unrecorded {
            // Adopt the unrecorded token: its family (named after it) is locked above.
            insert(connection, &presented, &family, "active").await?;
            record = lock_token(connection, &presented.jti).await?;
        }
        // The locks are held from here: read the clock now, not before.
        let now = clock.now();
        PauseHook::at(&self.pause, Checkpoint::TokenLocked).await;
        let stored = match &record {
            None => None,
            Some(row) => Some(stored_state(
                &presented.jti,
                &row.state,
                &row.sealed_successor,
                row.successor_until,
                row.rotated_at,
                now,
            )?),
        };
        let outcome = match next_step(stored, family_revoked, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(sealed_successor) => RotationOutcome::Replayed { sealed_successor },
            Step::Reuse { revoke_family } => {
                sqlx::query(
                    "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted', sealed_successor = NULL, successor_until = NULL WHERE jti = $1",
                )
                .bind(&presented.jti)
                .execute(&mut *connection)
                .await
                .map_err(unavailable)?;
                update_family(
                    connection,
                    &family,
                    presented
                        .family_retained_until()
                        .max(successor.retained_until()),
                    revoke_family,
                    now,
                )
                .await?;
                warn_reuse(&presented.jti, &presented.subject, &family, revoke_family);
                RotationOutcome::Refused(Refusal::Reused)
            }
            Step::AdoptAndRotate | Step::Rotate => {
                if rules.blacklist_after_rotation {
                    let until = successor_until(&rules, sealed_successor.as_deref(), now);
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'used', rotated_at = $1, sealed_successor = $2, successor_until = $3 WHERE jti = $4",
                    )
                    .bind(to_sql(now))
                    .bind(until.and(sealed_successor))
                    .bind(until.map(to_sql))
                    .bind(&presented.jti)
                    .execute(&mut *connection)
                    .await
                    .map_err(unavailable)?;
                }
                insert(connection, &successor, &family, "active").await?;
                update_family(connection, &family, successor.retained_until(), false, now).await?;
                RotationOutcome::Rotated
            }
        };
        PauseHook::at(&self.pause, Checkpoint::Written).await;
        Ok(outcome)
    }
}
