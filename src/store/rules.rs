//! The rotation rules as one pure decision, so every backend applies them alike.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::StoreError;
use super::{Refusal, RotationRules};

/// A presented token's record, as a backend read it inside its atomic step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored<'a> {
    Active,
    Used {
        successor_token: &'a str,
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
    /// Hand out this earlier successor; write nothing.
    Replay(String),
    /// Reuse: blacklist the presented token, and its whole family when
    /// `revoke_family`; answer [`Refusal::Reused`].
    Reuse { revoke_family: bool },
    /// Write nothing and refuse.
    Refuse(Refusal),
}

/// A stored state as the rotation rules read it.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
/// (SQL backends keep `state`, `successor_token` and `rotated_at` as columns.)
pub(crate) fn stored_state<'a>(
    jti: &str,
    state: &str,
    successor_token: &'a Option<String>,
    rotated_at: Option<i64>,
) -> Result<Stored<'a>, StoreError> {
    match (state, successor_token, rotated_at) {
        ("active", _, _) => Ok(Stored::Active),
        ("blacklisted", _, _) => Ok(Stored::Blacklisted),
        ("used", Some(successor_token), Some(rotated_at)) => Ok(Stored::Used {
            successor_token,
            rotated_at: u64::try_from(rotated_at).unwrap_or(0),
        }),
        _ => Err(StoreError::Corrupt(format!(
            "token {jti} has state {state:?} without its rotation"
        ))),
    }
}

/// Decides a rotation from the stored record and the time read inside the atomic step.
pub(crate) fn next_step(stored: Option<Stored<'_>>, rules: &RotationRules, now: u64) -> Step {
    match stored {
        None if rules.accept_unrecorded => Step::AdoptAndRotate,
        None => Step::Refuse(Refusal::Unrecorded),
        Some(Stored::Blacklisted) => Step::Refuse(Refusal::Blacklisted),
        Some(Stored::Active) => Step::Rotate,
        Some(Stored::Used {
            successor_token,
            rotated_at,
        }) => {
            if now.saturating_sub(rotated_at) < rules.reuse_grace.as_secs() {
                Step::Replay(successor_token.to_owned())
            } else {
                Step::Reuse {
                    revoke_family: rules.reuse_policy == crate::config::ReusePolicy::RevokeFamily,
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
            successor_token: "T",
            rotated_at: 100,
        });
        assert_eq!(next_step(None, &rules(0), 0), Step::AdoptAndRotate);
        let refuse_unrecorded = RotationRules {
            accept_unrecorded: false,
            ..rules(0)
        };
        assert_eq!(
            next_step(None, &refuse_unrecorded, 0),
            Step::Refuse(Refusal::Unrecorded)
        );
        assert_eq!(next_step(Some(Stored::Active), &rules(0), 0), Step::Rotate);
        assert_eq!(
            next_step(Some(Stored::Blacklisted), &rules(60), 0),
            Step::Refuse(Refusal::Blacklisted)
        );
        assert_eq!(next_step(used, &rules(10), 109), Step::Replay("T".into()));
        assert_eq!(
            next_step(used, &rules(10), 110),
            Step::Reuse {
                revoke_family: true
            }
        );
        assert_eq!(
            next_step(used, &rules(0), 100),
            Step::Reuse {
                revoke_family: true
            }
        );
        // A clock that went backwards is an age of 0, not a wrap-around.
        assert_eq!(next_step(used, &rules(10), 50), Step::Replay("T".into()));
        let lenient = RotationRules {
            reuse_policy: ReusePolicy::BlacklistOnly,
            ..rules(0)
        };
        assert_eq!(
            next_step(used, &lenient, 200),
            Step::Reuse {
                revoke_family: false
            }
        );
    }
}
