//! The per-request subject lookup of [`SqliteUserStore`](super::SqliteUserStore),
//! answered without leaving the calling thread.
//!
//! sqlx runs every SQLite statement on a worker thread of its connection and
//! sends the rows back over a channel: for a one-row read by primary key, the
//! two thread hand-offs cost about ten times the read itself (under load,
//! about 50 µs of CPU against 5 µs). The authentication layer looks the
//! token's user up on every request, so this reader keeps a few read-only
//! connections to the same database file and runs that one statement in
//! place: a B-tree lookup in SQLite's page cache, and the two `fcntl` calls
//! of the lock that every read of a WAL database takes.
//!
//! It never waits. A connection that is in use is skipped, the connections
//! have no busy timeout, and any failure (a locked or missing file, a schema
//! being changed) makes the read give way to sqlx's asynchronous path,
//! which waits and reports errors as before; the next 256 lookups go there
//! too before the reader tries again. Reads see every committed write, from
//! this process or another, as sqlx's own connections do.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sqlx::sqlite::SqlitePool;

use super::Subject;
use super::UserStoreError;

const SELECT_SUBJECT: &str = "SELECT id, username, is_active FROM simplejwt_users WHERE id = ?1";

/// After a failed open or read, this many lookups go to the pool before
/// the next try: a file that cannot be read in place costs one failed try
/// per this many requests, not one per request.
const GIVE_WAY_AFTER_FAILURE: u32 = 256;

/// Read-only connections to the users' database file, each opened on first
/// use and held behind its own lock.
#[derive(Debug)]
pub(crate) struct SubjectReader {
    path: Box<Path>,
    connections: Box<[Mutex<Option<Connection>>]>,
    /// Lookups still to leave to the pool after the last failure.
    giving_way: AtomicU32,
}

impl SubjectReader {
    /// A reader of the file the pool's connections have open; `None` for a
    /// database in memory, which only the pool's own connection can see.
    pub(crate) async fn for_pool(pool: &SqlitePool) -> Result<Option<Self>, UserStoreError> {
        // SQLite's own answer, whatever the URL said: the main database's
        // full path, empty when it is in memory.
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(pool)
                .await
                .map_err(UserStoreError::unavailable)?;
        if file.is_empty() {
            return Ok(None);
        }
        let count =
            std::thread::available_parallelism().map_or(2, |count| count.get().clamp(2, 16));
        Ok(Some(SubjectReader {
            path: Path::new(&file).into(),
            connections: (0..count).map(|_| Mutex::new(None)).collect(),
            giving_way: AtomicU32::new(0),
        }))
    }

    /// The subject with row id `id`, or `None` when no connection is free at
    /// once or the read failed: the caller then takes sqlx's path.
    pub(crate) fn subject(&self, id: i64) -> Option<Result<Option<Subject>, UserStoreError>> {
        if self.giving_way.load(Ordering::Relaxed) > 0 {
            // Racing decrements may skip a try or make one early: harmless.
            self.giving_way.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        for slot in self.connections.iter() {
            let mut connection = match slot.try_lock() {
                Ok(guard) => guard,
                // A thread that panicked holding it left a connection that
                // is still sound: SQLite keeps no state between statements.
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            let read = match &*connection {
                Some(open) => read(open, id),
                None => self.open().and_then(|open| {
                    let subject = read(&open, id);
                    *connection = Some(open);
                    subject
                }),
            };
            return match read {
                Ok(subject) => Some(Ok(subject)),
                Err(error) => {
                    tracing::debug!(%error, "SQLite subject read gave way to the pool");
                    // Opened again on the next try, in case the file was replaced.
                    *connection = None;
                    self.giving_way
                        .store(GIVE_WAY_AFTER_FAILURE, Ordering::Relaxed);
                    None
                }
            };
        }
        None
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(Duration::ZERO)?;
        Ok(connection)
    }
}

fn read(connection: &Connection, id: i64) -> rusqlite::Result<Option<Subject>> {
    connection
        .prepare_cached(SELECT_SUBJECT)?
        .query_row([id], |row| {
            Ok(Subject::new(
                row.get::<_, i64>(0)?.to_string(),
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
            ))
        })
        .optional()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use crate::credentials::{SqliteUserStore, UserStore};

    /// A pool on `url` as an application opens one: WAL for files, one
    /// connection kept open for a database in memory.
    async fn open_pool(url: &str) -> Result<SqlitePool, sqlx::Error> {
        let options = url
            .parse::<SqliteConnectOptions>()?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let in_memory = url.contains(":memory:");
        SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(u32::from(in_memory))
            .connect_with(options)
            .await
    }

    /// A fresh directory and the URL of a database file in it.
    fn temp_url(name: &str) -> (PathBuf, String) {
        let dir = std::env::temp_dir().join(format!(
            "tower-simplejwt-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("users.sqlite3").display());
        (dir, url)
    }

    /// A fresh database file holding alice (id 1, active) and bob (id 2, inactive).
    async fn users(name: &str) -> (SqliteUserStore, SqlitePool, PathBuf) {
        let (dir, url) = temp_url(&format!("reader-{name}"));
        let pool = open_pool(&url).await.unwrap();
        let users = SqliteUserStore::from_pool(pool.clone()).await.unwrap();
        users.create("alice", "hash", true).await.unwrap();
        users.create("bob", "hash", false).await.unwrap();
        (users, pool, dir)
    }

    /// Runs `sql` through the pool, as the rest of the application would.
    async fn execute(pool: &SqlitePool, sql: &str) {
        sqlx::query(sql).execute(pool).await.unwrap();
    }

    fn found(users: &SqliteUserStore, id: &str) -> Option<(String, String, bool)> {
        let subject = users
            .find_subject_now(id)
            .expect("a file database answers in place")
            .unwrap()?;
        Some((subject.id, subject.username, subject.is_active))
    }

    #[tokio::test]
    async fn a_file_database_answers_in_place() {
        let (users, _pool, dir) = users("in-place").await;
        assert_eq!(
            found(&users, "1"),
            Some(("1".to_owned(), "alice".to_owned(), true))
        );
        assert_eq!(
            found(&users, "2"),
            Some(("2".to_owned(), "bob".to_owned(), false))
        );
        assert_eq!(found(&users, "3"), None);
        // Not canonical decimal ids: no user, as find_by_id says.
        for id in ["01", "1.0", "+1", " 1", "", "99999999999999999999"] {
            assert_eq!(found(&users, id), None, "{id:?}");
            assert_eq!(users.find_by_id(id).await.unwrap(), None, "{id:?}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn writes_through_the_pool_are_seen_at_once() {
        let (users, pool, dir) = users("writes").await;
        assert_eq!(found(&users, "1").map(|user| user.2), Some(true));
        execute(
            &pool,
            "UPDATE simplejwt_users SET is_active = 0 WHERE id = 1",
        )
        .await;
        assert_eq!(found(&users, "1").map(|user| user.2), Some(false));
        users.create("carol", "hash", true).await.unwrap();
        assert_eq!(
            found(&users, "3").map(|user| user.1),
            Some("carol".to_owned())
        );
        execute(&pool, "DELETE FROM simplejwt_users WHERE id = 3").await;
        assert_eq!(found(&users, "3"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_database_in_memory_is_left_to_the_pool() {
        let pool = open_pool("sqlite::memory:").await.unwrap();
        let users = SqliteUserStore::from_pool(pool).await.unwrap();
        users.create("alice", "hash", true).await.unwrap();
        assert!(users.find_subject_now("1").is_none());
        assert_eq!(
            users.find_subject("1").await.unwrap().unwrap().username,
            "alice"
        );
    }

    #[tokio::test]
    async fn busy_connections_are_skipped_not_waited_for() {
        let (_users, pool, dir) = users("busy").await;
        let reader = SubjectReader::for_pool(&pool).await.unwrap().unwrap();
        let held: Vec<_> = reader
            .connections
            .iter()
            .map(|slot| slot.lock().unwrap())
            .collect();
        assert!(reader.subject(1).is_none());
        drop(held);
        assert_eq!(
            reader.subject(1).unwrap().unwrap().unwrap().username,
            "alice"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_failed_read_gives_way_to_the_pool_and_reconnects() {
        let (users, pool, dir) = users("failed").await;
        assert!(found(&users, "1").is_some());
        execute(
            &pool,
            "ALTER TABLE simplejwt_users RENAME TO simplejwt_users_moved",
        )
        .await;
        assert!(users.find_subject_now("1").is_none());
        assert_eq!(
            users
                .reader
                .as_ref()
                .unwrap()
                .giving_way
                .load(Ordering::Relaxed),
            GIVE_WAY_AFTER_FAILURE
        );
        // The pool's own answer is the error callers see.
        assert!(matches!(
            users.find_subject("1").await,
            Err(UserStoreError::Unavailable(_))
        ));
        execute(
            &pool,
            "ALTER TABLE simplejwt_users_moved RENAME TO simplejwt_users",
        )
        .await;
        // The next lookups go to the pool; then the reader tries again.
        for _ in 0..GIVE_WAY_AFTER_FAILURE {
            assert!(users.find_subject_now("1").is_none());
            assert!(users.find_subject("1").await.unwrap().is_some());
        }
        assert_eq!(
            found(&users, "1").map(|user| user.1),
            Some("alice".to_owned())
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_opened_costs_one_try_per_give_way() {
        let (_users, pool, dir) = users("unopenable").await;
        let mut reader = SubjectReader::for_pool(&pool).await.unwrap().unwrap();
        let file = std::mem::replace(&mut reader.path, dir.join("missing.sqlite3").into());
        assert!(reader.subject(1).is_none());
        assert!(!dir.join("missing.sqlite3").exists(), "opened read-only");
        assert_eq!(
            reader.giving_way.load(Ordering::Relaxed),
            GIVE_WAY_AFTER_FAILURE
        );
        for _ in 0..GIVE_WAY_AFTER_FAILURE {
            assert!(reader.subject(1).is_none());
        }
        assert_eq!(reader.giving_way.load(Ordering::Relaxed), 0);
        reader.path = file;
        assert_eq!(
            reader.subject(1).unwrap().unwrap().unwrap().username,
            "alice"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_closed_pool_closes_the_reads_in_place_too() {
        let (users, pool, dir) = users("closed").await;
        assert!(found(&users, "1").is_some());
        pool.close().await;
        assert!(users.find_subject_now("1").is_none());
        assert!(users.find_subject("1").await.is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
