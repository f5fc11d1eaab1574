//! Records written in bulk, for benchmarks of revocation.

use super::{unavailable, RedisTokenStore};
use crate::store::{RecordedToken, StoreError, TokenStore};

impl RedisTokenStore {
    /// Records `rotations` past rotations of one family of `subject` at once
    /// (pipelined), ending with `current` active (for benchmarks of
    /// revocation); returns the `jti` of the first past rotation.
    #[doc(hidden)]
    pub async fn record_rotated_family(
        &self,
        current: &RecordedToken,
        rotations: u64,
    ) -> Result<String, StoreError> {
        let base = u128::from(rand::random::<u64>()) << 64;
        self.record(current.clone()).await?;
        let prefix = self.prefix(&current.subject);
        let mut connection = self.connection.clone();
        let mut start = 0;
        while start < rotations {
            let end = (start + 10_000).min(rotations);
            let mut pipe = redis::pipe();
            for index in start..end {
                let key = format!("{prefix}t:{:032x}", base | u128::from(index));
                pipe.hset_multiple(
                    &key,
                    &[
                        ("family", current.jti.clone()),
                        ("state", "used".into()),
                        ("rotated_at", "0".into()),
                        ("expires_at", current.expires_at.to_string()),
                        ("keep_until", current.retained_until().to_string()),
                    ],
                )
                .ignore()
                .expire_at(&key, current.retained_until() as i64)
                .ignore();
            }
            pipe.query_async::<()>(&mut connection)
                .await
                .map_err(unavailable)?;
            start = end;
        }
        Ok(format!("{base:032x}"))
    }
}
