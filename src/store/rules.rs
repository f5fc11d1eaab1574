//! The rotation rules as one pure decision, so every backend applies them alike.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::StoreError;
use super::{Refusal, RotationRules};

/// A presented token's record, as a backend read it inside its atomic step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored<'a> {
    Active,
    Used {
        /// The sealed successor, while its grace window lasts (`None` after,
        /// or when none was kept).
        sealed_successor: Option<&'a str>,
        rotated_at: u64,
    },
    Blacklisted,
}

/// What the backend must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Record the presented token as the first of a new family (it was never
    /// seen), then rotate it.
    AdoptAndRotate,
    /// Mark the presented token used (when blacklisting after rotation) and
    /// record the successor in its family.
    Rotate,
    /// Hand out this earlier (sealed) successor; write nothing.
    Replay(String),
    /// Reuse: blacklist the presented token, and revoke its whole family when
    /// `revoke_family`; answer [`Refusal::Reused`].
    Reuse { revoke_family: bool },
    /// Write nothing and refuse.
    Refuse(Refusal),
}

/// A stored state as the rotation rules read it (SQL backends keep `state`,
/// `sealed_successor`, `successor_until` and `rotated_at` as columns). A
/// sealed successor whose window ended at or before `now` is not read.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn stored_state<'a>(
    jti: &str,
    state: &str,
    sealed_successor: &'a Option<String>,
    successor_until: Option<i64>,
    rotated_at: Option<i64>,
    now: u64,
) -> Result<Stored<'a>, StoreError> {
    let window_open = successor_until
        .and_then(|until| u64::try_from(until).ok())
        .is_some_and(|until| now < until);
    match (state, rotated_at) {
        ("active", _) => Ok(Stored::Active),
        ("blacklisted", _) => Ok(Stored::Blacklisted),
        ("used", Some(rotated_at)) => Ok(Stored::Used {
            sealed_successor: sealed_successor.as_deref().filter(|_| window_open),
            rotated_at: u64::try_from(rotated_at).unwrap_or(0),
        }),
        _ => Err(StoreError::Corrupt(format!(
            "token {jti} has state {state:?} without its rotation"
        ))),
    }
}

/// Until when a rotation at `now` keeps the successor it sealed: the end of
/// the grace window, or `None` when nothing is kept (a window of 0 never replays).
pub(crate) fn successor_until(
    rules: &RotationRules,
    sealed: Option<&str>,
    now: u64,
) -> Option<u64> {
    let grace = rules.reuse_grace.as_secs();
    (grace > 0 && rules.blacklist_after_rotation && sealed.is_some())
        .then(|| now.saturating_add(grace).min(super::MAX_TIMESTAMP))
}

/// Decides a rotation from the stored record, its family's state, and the
/// time read inside the atomic step.
///
/// A revoked family refuses every token of it, whatever its own record
/// says: that is what makes a revocation win against a rotation that
/// inserted a successor concurrently. A used token within the window whose
/// sealed successor is gone (none was kept, or the window was widened after
/// the rotation) is refused without revoking: it is not reuse.
pub(crate) fn next_step(
    stored: Option<Stored<'_>>,
    family_revoked: bool,
    rules: &RotationRules,
    now: u64,
) -> Step {
    match stored {
        None if rules.accept_unrecorded => Step::AdoptAndRotate,
        None => Step::Refuse(Refusal::Unrecorded),
        Some(_) if family_revoked => Step::Refuse(Refusal::Blacklisted),
        Some(Stored::Blacklisted) => Step::Refuse(Refusal::Blacklisted),
        Some(Stored::Active) => Step::Rotate,
        Some(Stored::Used {
            sealed_successor,
            rotated_at,
        }) => {
            if now.saturating_sub(rotated_at) < rules.reuse_grace.as_secs() {
                match sealed_successor {
                    Some(sealed) => Step::Replay(sealed.to_owned()),
                    None => Step::Refuse(Refusal::Blacklisted),
                }
            } else {
                Step::Reuse {
                    revoke_family: rules.revokes_family(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::ReusePolicy;

    fn rules(grace: u64) -> RotationRules {
        RotationRules {
            reuse_grace: Duration::from_secs(grace),
            ..RotationRules::default()
        }
    }

    #[test]
    fn decisions() {
        let used = Some(Stored::Used {
            sealed_successor: Some("T"),
            rotated_at: 100,
        });
        assert_eq!(next_step(None, false, &rules(0), 0), Step::AdoptAndRotate);
        let refuse_unrecorded = RotationRules {
            accept_unrecorded: false,
            ..rules(0)
        };
        assert_eq!(
            next_step(None, false, &refuse_unrecorded, 0),
            Step::Refuse(Refusal::Unrecorded)
        );
        assert_eq!(
            next_step(Some(Stored::Active), false, &rules(0), 0),
            Step::Rotate
        );
        assert_eq!(
            next_step(Some(Stored::Blacklisted), false, &rules(60), 0),
            Step::Refuse(Refusal::Blacklisted)
        );
        assert_eq!(
            next_step(used, false, &rules(10), 109),
            Step::Replay("T".into())
        );
        assert_eq!(
            next_step(used, false, &rules(10), 110),
            Step::Reuse {
                revoke_family: true
            }
        );
        assert_eq!(
            next_step(used, false, &rules(0), 100),
            Step::Reuse {
                revoke_family: true
            }
        );
        // A clock that went backwards is an age of 0, not a wrap-around.
        assert_eq!(
            next_step(used, false, &rules(10), 50),
            Step::Replay("T".into())
        );
        let lenient = RotationRules {
            reuse_policy: ReusePolicy::BlacklistOnly,
            ..rules(0)
        };
        assert_eq!(
            next_step(used, false, &lenient, 200),
            Step::Reuse {
                revoke_family: false
            }
        );
    }

    #[test]
    fn a_revoked_family_refuses_every_token_of_it() {
        for stored in [
            Stored::Active,
            Stored::Blacklisted,
            Stored::Used {
                sealed_successor: Some("T"),
                rotated_at: 100,
            },
        ] {
            assert_eq!(
                next_step(Some(stored), true, &rules(10), 101),
                Step::Refuse(Refusal::Blacklisted),
                "{stored:?}"
            );
        }
    }

    #[test]
    fn a_window_without_its_successor_refuses_without_revoking() {
        let erased = Some(Stored::Used {
            sealed_successor: None,
            rotated_at: 100,
        });
        assert_eq!(
            next_step(erased, false, &rules(10), 105),
            Step::Refuse(Refusal::Blacklisted)
        );
    }

    #[test]
    fn the_successor_is_kept_only_for_a_window() {
        assert_eq!(successor_until(&rules(10), Some("S"), 100), Some(110));
        assert_eq!(successor_until(&rules(0), Some("S"), 100), None);
        assert_eq!(successor_until(&rules(10), None, 100), None);
        let keep = RotationRules {
            blacklist_after_rotation: false,
            ..rules(10)
        };
        assert_eq!(successor_until(&keep, Some("S"), 100), None);
    }
}
