//! One rotation, inside the `BEGIN IMMEDIATE` transaction the caller holds.

use super::purge::erase_ended_windows;
use super::rows::{insert, read, write_family};
use super::{to_sql, unavailable, SqliteTokenStore};
use crate::clock::SharedClock;
use crate::store::rules::{next_step, stored_state, successor_until, Step};
use crate::store::{
    warn_reuse, Checkpoint, PauseHook, Refusal, Rotation, RotationOutcome, StoreError,
};

impl SqliteTokenStore {
    /// Rotates in the caller's transaction, which holds the write lock.
    pub(super) async fn rotate_in(
        &self,
        connection: &mut sqlx::SqliteConnection,
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
        // The write lock is held from here: read the clock now, not before.
        let now = clock.now();
        let record = read(connection, &presented.jti).await?;
        PauseHook::at(&self.pause, Checkpoint::FamilyLocked).await;
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
        let family_revoked = record.as_ref().is_some_and(|row| row.family_revoked);
        let outcome = match next_step(stored, family_revoked, &rules, now) {
            Step::Refuse(refusal) => RotationOutcome::Refused(refusal),
            Step::Replay(sealed_successor) => RotationOutcome::Replayed { sealed_successor },
            Step::Reuse { revoke_family } => {
                let family = record.map(|row| row.family).unwrap_or_default();
                sqlx::query(
                    "UPDATE simplejwt_refresh_tokens SET state = 'blacklisted', sealed_successor = NULL, successor_until = NULL WHERE jti = ?",
                )
                .bind(&presented.jti)
                .execute(&mut *connection)
                .await
                .map_err(unavailable)?;
                let revoked = revoke_family
                    && write_family(
                        connection,
                        &family,
                        &presented.subject,
                        presented
                            .family_retained_until()
                            .max(successor.retained_until()),
                        true,
                    )
                    .await?;
                warn_reuse(&presented.jti, &presented.subject, &family, revoked);
                RotationOutcome::Refused(Refusal::Reused)
            }
            Step::AdoptAndRotate | Step::Rotate => {
                let family = match record {
                    Some(row) => row.family,
                    None => {
                        insert(connection, &presented, &presented.jti, "active").await?;
                        presented.jti.clone()
                    }
                };
                if rules.blacklist_after_rotation {
                    let until = successor_until(&rules, sealed_successor.as_deref(), now);
                    sqlx::query(
                        "UPDATE simplejwt_refresh_tokens SET state = 'used', rotated_at = ?, sealed_successor = ?, successor_until = ? WHERE jti = ?",
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
                write_family(
                    connection,
                    &family,
                    &presented.subject,
                    successor.retained_until().max(presented.retained_until()),
                    false,
                )
                .await?;
                RotationOutcome::Rotated
            }
        };
        erase_ended_windows(connection, now).await?;
        PauseHook::at(&self.pause, Checkpoint::Written).await;
        Ok(outcome)
    }
}
