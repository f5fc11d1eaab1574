//! Reading the rotation script's reply.

use redis::Value;

use crate::store::{warn_reuse, RecordedToken, Refusal, RotationOutcome, StoreError};

/// Reads the rotation script's reply (emitting the security event of a reuse).
pub(super) fn outcome(
    reply: Vec<Value>,
    presented: &RecordedToken,
) -> Result<RotationOutcome, StoreError> {
    let text = |index: usize| -> Result<String, StoreError> {
        match reply.get(index) {
            Some(Value::BulkString(bytes)) => Ok(String::from_utf8_lossy(bytes).into_owned()),
            Some(Value::SimpleString(text)) => Ok(text.clone()),
            other => Err(StoreError::Corrupt(format!(
                "unexpected rotation reply part {other:?}"
            ))),
        }
    };
    match text(0)?.as_str() {
        "rotated" => Ok(RotationOutcome::Rotated),
        "replayed" => Ok(RotationOutcome::Replayed {
            sealed_successor: text(1)?,
        }),
        "reused" => {
            warn_reuse(
                &presented.jti,
                &presented.subject,
                &text(1)?,
                text(2)? == "1",
            );
            Ok(RotationOutcome::Refused(Refusal::Reused))
        }
        "refused" => match text(1)?.as_str() {
            "unrecorded" => Ok(RotationOutcome::Refused(Refusal::Unrecorded)),
            _ => Ok(RotationOutcome::Refused(Refusal::Blacklisted)),
        },
        other => Err(StoreError::Corrupt(format!(
            "unexpected rotation reply {other:?}"
        ))),
    }
}
