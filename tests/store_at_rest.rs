//! What the SQL token stores hold after a rotation with a grace window, and
//! after the window: no stored value refreshes as a token (the successor is
//! sealed with the presented token), and the sealed successor is erased once
//! the window has ended. Read straight from the database, every column.
#![cfg(all(feature = "sqlite", feature = "postgres"))]

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use serde_json::Value;
use sqlx::Row;
use tower::{Layer, ServiceExt};
use tower_simplejwt::clock::{Clock, ManualClock, SharedClock, SystemClock};
use tower_simplejwt::config::{JwtConfig, ReusePolicy};
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
};
use tower_simplejwt::http::RefreshLayer;
use tower_simplejwt::store::postgres::PostgresTokenStore;
use tower_simplejwt::store::sqlite::SqliteTokenStore;
use tower_simplejwt::store::{PurgeTask, RecordedToken, TokenStore};
use tower_simplejwt::token::{Expected, TokenKind};
use tower_simplejwt::Jwt;

const GRACE: u64 = 10;

/// Every value of every row of the family of `jti`, and of its family record, as text.
trait Dump {
    async fn dump(&self, family: &str) -> Vec<Option<String>>;
}

impl Dump for PostgresTokenStore {
    async fn dump(&self, family: &str) -> Vec<Option<String>> {
        let mut values = Vec::new();
        for table in ["simplejwt_refresh_tokens", "simplejwt_refresh_families"] {
            let rows = sqlx::query(&format!(
                "SELECT row_to_json(t)::text AS row FROM {table} t WHERE family = $1"
            ))
            .bind(family)
            .fetch_all(self.pool())
            .await
            .unwrap();
            for row in rows {
                let json: String = row.get("row");
                let object: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
                values.extend(object.into_values().map(|value| match value {
                    Value::Null => None,
                    Value::String(text) => Some(text),
                    other => Some(other.to_string()),
                }));
            }
        }
        values
    }
}

impl Dump for SqliteTokenStore {
    async fn dump(&self, family: &str) -> Vec<Option<String>> {
        let mut values = Vec::new();
        for table in ["simplejwt_refresh_tokens", "simplejwt_refresh_families"] {
            let columns: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(self.pool())
                    .await
                    .unwrap();
            let select = columns
                .iter()
                .map(|column| format!("CAST({column} AS TEXT)"))
                .collect::<Vec<_>>()
                .join(", ");
            let rows = sqlx::query(&format!("SELECT {select} FROM {table} WHERE family = ?"))
                .bind(family)
                .fetch_all(self.pool())
                .await
                .unwrap();
            for row in rows {
                for index in 0..columns.len() {
                    values.push(row.get::<Option<String>, _>(index));
                }
            }
        }
        values
    }
}

async fn refresh(jwt: &Jwt, token: &str) -> String {
    let not_found = tower::service_fn(|_: http::Request<Full<bytes::Bytes>>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Full::<bytes::Bytes>::default()))
    });
    let request = http::Request::post("/api/token/refresh/")
        .header("content-type", "application/json")
        .body(Full::from(format!(r#"{{"refresh":"{token}"}}"#)))
        .unwrap();
    let response = RefreshLayer::new(jwt.clone())
        .layer(not_found)
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    answer["refresh"].as_str().unwrap().to_owned()
}

fn assert_nothing_usable(jwt: &Jwt, values: &[Option<String>], tokens: &[&str], when: &str) {
    for value in values.iter().flatten() {
        for token in tokens {
            assert!(!value.contains(token), "{when}: a token in clear: {value}");
        }
        assert!(
            jwt.codec()
                .verify(value, Expected::Kind(TokenKind::Refresh))
                .is_err(),
            "{when}: a stored value verifies as a refresh token: {value}"
        );
    }
}

async fn successor_at_rest<S: TokenStore + Dump + Clone>(store: S) {
    let users = MemoryUserStore::new();
    users.create("alice", "unused", true).await.unwrap();
    let clock = ManualClock::new(SystemClock.now());
    let shared: SharedClock = Arc::new(clock.clone());
    let jwt = Jwt::builder(
        JwtConfig::simplejwt_guide("the at-rest test secret, of 32 bytes or more")
            .with_reuse(Duration::from_secs(GRACE), ReusePolicy::RevokeFamily),
    )
    .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
    .shared_token_store(Arc::new(store.clone()))
    .clock(shared)
    .build()
    .unwrap();
    let pair = jwt.codec().mint_pair("1", &serde_json::Map::new()).unwrap();
    let first = pair.refresh.token;
    let family = pair.refresh.claims.jti.clone();
    store
        .record(RecordedToken::new(&family, "1", pair.refresh.claims.exp))
        .await
        .unwrap();

    let second = refresh(&jwt, &first).await;
    let after_rotation = store.dump(&family).await;
    assert_nothing_usable(
        &jwt,
        &after_rotation,
        &[&first, &second],
        "after a rotation",
    );
    assert!(
        after_rotation
            .iter()
            .flatten()
            .any(|value| value.starts_with("s1.")),
        "the sealed successor is among the values examined"
    );
    assert_eq!(
        refresh(&jwt, &first).await,
        second,
        "a replay within the window opens the sealed successor"
    );

    clock.advance(Duration::from_secs(GRACE));
    let third = refresh(&jwt, &second).await;
    let after_window = store.dump(&family).await;
    assert_nothing_usable(
        &jwt,
        &after_window,
        &[&first, &second, &third],
        "after the window",
    );
    let sealed = after_window
        .iter()
        .flatten()
        .filter(|value| value.starts_with("s1."))
        .count();
    assert_eq!(
        sealed, 1,
        "the first successor is erased when its window ends; only the open window's remains"
    );
    clock.advance(Duration::from_secs(GRACE));
    // The purge task's frequent step, with no rotation and no full purge.
    assert_eq!(
        PurgeTask::step(&store, clock.now(), false).await.unwrap(),
        1,
        "the ended window's successor is erased"
    );
    let after_erasure = store.dump(&family).await;
    assert!(
        !after_erasure
            .iter()
            .flatten()
            .any(|value| value.starts_with("s1.")),
        "no sealed successor outlives its window"
    );
    store.purge_expired(clock.now()).await.unwrap();
    assert_eq!(
        store.dump(&family).await,
        after_erasure,
        "nothing else was due"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_stored_in_sqlite_refreshes() {
    let dir =
        std::env::temp_dir().join(format!("tower-simplejwt-at-rest-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
    successor_at_rest(SqliteTokenStore::connect(&url).await.unwrap()).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_stored_in_postgres_refreshes() {
    let store = PostgresTokenStore::connect("postgres://postgres@127.0.0.1:5432/test")
        .await
        .expect("PostgreSQL must be running on 127.0.0.1:5432");
    successor_at_rest(store).await;
}
