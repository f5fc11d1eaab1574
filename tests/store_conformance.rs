//! The store conformance suite (`store::conformance`, behind the
//! `conformance` feature, which the crate's own dev-dependency on itself
//! switches on) run on every backend compiled in, as a user runs it on
//! theirs: the memory store and SQLite with the default features, PostgreSQL
//! and Redis with theirs (the servers must be running; a missing one fails
//! the test). Each backend also runs the revocation-against-rotation
//! interleavings and the thief-and-victim race across two handles.

use std::sync::Arc;

use tower_simplejwt::store::{conformance, MemoryTokenStore, TokenStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    conformance::run(Arc::new(MemoryTokenStore::new())).await;
}

/// No await inside the shard lock: a revocation comes wholly before or
/// after a rotation, and both orders are checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_revocation_interleaved_with_rotation() {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    conformance::interleavings(store.clone(), |_| store.clone(), &[], None).await;
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::PathBuf;
    use std::sync::Arc;

    use tower_simplejwt::store::conformance;
    use tower_simplejwt::store::sqlite::SqliteTokenStore;
    use tower_simplejwt::store::Checkpoint;

    /// A fresh directory, and the URL of a database file in it.
    fn temp_url(name: &str) -> (PathBuf, String) {
        let dir = std::env::temp_dir().join(format!(
            "tower-simplejwt-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
        (dir, url)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_a_file() {
        let (dir, url) = temp_url("conformance");
        conformance::run(Arc::new(SqliteTokenStore::connect(&url).await.unwrap())).await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_memory() {
        let store = SqliteTokenStore::connect("sqlite::memory:").await.unwrap();
        conformance::run(Arc::new(store)).await;
    }

    /// Rotations held at each checkpoint of their `BEGIN IMMEDIATE`
    /// transaction while a revocation runs on another pool of the same file
    /// (it must wait for the write lock); and the thief-and-victim race
    /// across two pools.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revocation_interleaved_with_rotation() {
        let (dir, url) = temp_url("interleave");
        let store = SqliteTokenStore::connect(&url).await.unwrap();
        let other = SqliteTokenStore::connect(&url).await.unwrap();
        conformance::interleavings(
            Arc::new(other.clone()),
            |hook| Arc::new(store.clone().with_pause_hook(hook)),
            &[
                Checkpoint::Begun,
                Checkpoint::FamilyLocked,
                Checkpoint::TokenLocked,
                Checkpoint::Written,
            ],
            None,
        )
        .await;
        conformance::thief_and_victim(Arc::new(store), Arc::new(other), 15).await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use std::str::FromStr;
    use std::sync::Arc;

    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use tower_simplejwt::store::conformance::{self, WaitProbe};
    use tower_simplejwt::store::postgres::PostgresTokenStore;
    use tower_simplejwt::store::Checkpoint;

    /// The CI database; a missing server fails the test, it is not skipped.
    fn database_url() -> String {
        std::env::var("TOWER_SIMPLEJWT_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn suite() {
        let store = PostgresTokenStore::connect(&database_url()).await.expect(
            "PostgreSQL must be running on 127.0.0.1:5432 for the postgres feature's tests",
        );
        conformance::run(Arc::new(store)).await;
    }

    /// A store on its own pool whose sessions are named `application_name`.
    async fn named(application_name: &str) -> PostgresTokenStore {
        let options = PgConnectOptions::from_str(&database_url())
            .unwrap()
            .application_name(application_name);
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .expect("PostgreSQL must be running on 127.0.0.1:5432");
        PostgresTokenStore::from_pool(pool).await.unwrap()
    }

    /// Two connections: a rotation held at each checkpoint of its
    /// transaction, a revocation on another pool that must be seen waiting
    /// for the rotation's lock (`pg_stat_activity`) from the moment the
    /// family is locked until the commit; and the thief-and-victim race
    /// across two pools.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revocation_interleaved_with_rotation() {
        let revoker_name = format!("tsj-revoker-{:08x}", rand::random::<u32>());
        let rotator = named("tsj-rotator").await;
        let revoker = named(&revoker_name).await;
        let observer = rotator.pool().clone();
        let waiting: WaitProbe = Arc::new(move || {
            let (observer, revoker_name) = (observer.clone(), revoker_name.clone());
            Box::pin(async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                        WHERE application_name = $1 AND wait_event_type = 'Lock')",
                )
                .bind(&revoker_name)
                .fetch_one(&observer)
                .await
                .unwrap_or(false)
            })
        });
        conformance::interleavings(
            Arc::new(revoker.clone()),
            |hook| Arc::new(rotator.clone().with_pause_hook(hook)),
            &[
                Checkpoint::FamilyLocked,
                Checkpoint::TokenLocked,
                Checkpoint::Written,
            ],
            Some(waiting),
        )
        .await;
        conformance::thief_and_victim(Arc::new(rotator), Arc::new(revoker), 15).await;
    }
}

#[cfg(feature = "redis")]
mod redis {
    use std::sync::Arc;

    use tower_simplejwt::store::conformance;
    use tower_simplejwt::store::redis::RedisTokenStore;

    /// The CI server; a missing server fails the test, it is not skipped.
    async fn connect(namespace: &str) -> RedisTokenStore {
        let url = std::env::var("TOWER_SIMPLEJWT_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
        RedisTokenStore::connect_with_namespace(&url, namespace)
            .await
            .expect("Redis must be running on 127.0.0.1:6379 for the redis feature's tests")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn suite() {
        conformance::run(Arc::new(connect("simplejwt-conformance").await)).await;
    }

    /// Two connections, rotations of one held before their script while a
    /// revocation runs on the other, then released (the script itself cannot
    /// be interleaved); and the thief-and-victim race across two connections.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revocation_interleaved_with_rotation() {
        let store = connect("simplejwt-interleave").await;
        let other = connect("simplejwt-interleave").await;
        let paused = store.clone();
        conformance::interleavings(
            Arc::new(other.clone()),
            |hook| Arc::new(paused.clone().with_pause_hook(hook)),
            &[],
            None,
        )
        .await;
        conformance::thief_and_victim(Arc::new(store), Arc::new(other), 15).await;
    }
}
