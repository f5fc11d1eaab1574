//! Store size under churn: a simulated week of logins and refreshes.
//!
//! 200 users each log in once a simulated day (at an hour of their own) and
//! refresh every 2 hours with the token the previous refresh returned,
//! through the lifecycle API (`Jwt::issue_for`, `Jwt::refresh`) with the
//! default configuration (1-day refresh tokens, rotation with blacklisting).
//! A `ManualClock` drives the time; `TokenStore::purge_expired` runs every
//! simulated hour. At the end of each day the number of stored records is
//! printed: the memory store's token records, and SQLite's rows in the token
//! and family tables. The size should stay flat after the first refresh
//! lifetime instead of growing.
//!
//! `cargo bench --bench churn`

use std::sync::Arc;
use std::time::{Duration, Instant};

use tower_simplejwt::clock::{Clock, ManualClock, SharedClock};
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::store::sqlite::SqliteTokenStore;
use tower_simplejwt::store::{MemoryTokenStore, TokenStore};
use tower_simplejwt::Jwt;

/// An HS256 secret: 32 bytes or more.
const SECRET: &str = "benchmark-secret, 32 bytes or more";
const USERS: usize = 200;
const DAYS: u64 = 7;
const START: u64 = 1_900_000_000;

/// The store under test, kept concrete so that its size can be read.
enum Backend {
    Memory(Arc<MemoryTokenStore>),
    Sqlite(Arc<SqliteTokenStore>),
}

impl Backend {
    fn shared(&self) -> Arc<dyn TokenStore> {
        match self {
            Backend::Memory(store) => store.clone(),
            Backend::Sqlite(store) => store.clone(),
        }
    }

    /// Stored records: (token records, family records; `None` when the
    /// store does not count them).
    async fn size(&self) -> (i64, Option<i64>) {
        match self {
            Backend::Memory(store) => (store.len() as i64, None),
            Backend::Sqlite(store) => {
                let count = |table: &'static str| async move {
                    sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                        .fetch_one(store.pool())
                        .await
                        .expect("count")
                };
                (
                    count("simplejwt_refresh_tokens").await,
                    Some(count("simplejwt_refresh_families").await),
                )
            }
        }
    }
}

/// Runs the simulated week; returns the size at the end of each day.
async fn churn(backend: Backend) -> Vec<(i64, Option<i64>)> {
    let users = MemoryUserStore::new();
    for user in 0..USERS {
        users
            .create(&format!("user{user}"), "unused", true)
            .await
            .expect("create user");
    }
    let clock = ManualClock::new(START);
    let shared_clock: SharedClock = Arc::new(clock.clone());
    let store = backend.shared();
    let jwt = Jwt::builder(JwtConfig::new(SECRET))
        .shared_token_store(store.clone())
        .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
        .clock(shared_clock)
        .build()
        .expect("build");
    let mut current: Vec<Option<String>> = vec![None; USERS];
    let mut sizes = Vec::new();
    for hour in 0..DAYS * 24 {
        for (user, token) in current.iter_mut().enumerate() {
            let login_hour = (user % 24) as u64;
            if hour % 24 == login_hour {
                let subject = Subject::new((user + 1).to_string(), format!("user{user}"), true);
                let pair = jwt.issue_for(&subject).await.expect("issue");
                *token = Some(pair.refresh.token);
            } else if (hour + 24 - login_hour).is_multiple_of(2) {
                if let Some(presented) = token.as_deref() {
                    let refreshed = jwt.refresh(presented).await.expect("refresh");
                    *token = refreshed.refresh.map(|minted| minted.token);
                }
            }
        }
        clock.advance(Duration::from_secs(3600));
        store.purge_expired(clock.now()).await.expect("purge");
        if hour % 24 == 23 {
            sizes.push(backend.size().await);
        }
    }
    sizes
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let started = Instant::now();
        let memory = churn(Backend::Memory(Arc::new(MemoryTokenStore::new()))).await;
        let sqlite_store = SqliteTokenStore::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        let sqlite = churn(Backend::Sqlite(Arc::new(sqlite_store))).await;
        println!("| day | memory: token records | SQLite: token rows | SQLite: family rows |");
        println!("|----:|----------------------:|-------------------:|--------------------:|");
        for (day, (memory, sqlite)) in memory.iter().zip(&sqlite).enumerate() {
            println!(
                "| {} | {} | {} | {} |",
                day + 1,
                memory.0,
                sqlite.0,
                sqlite.1.unwrap_or_default()
            );
        }
        let ratio = |sizes: &[(i64, Option<i64>)]| sizes[6].0 as f64 / sizes[1].0 as f64;
        println!(
            "day 7 / day 2: memory {:.2}, SQLite tokens {:.2} ({} users, {:.1} s)",
            ratio(&memory),
            ratio(&sqlite),
            USERS,
            started.elapsed().as_secs_f64()
        );
    });
}
