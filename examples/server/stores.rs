//! The token store `--token-store` names, its purging (`server purge` and
//! `--purge-every`), and the trusted issuers of `--trust-issuer`.

use std::sync::Arc;
use std::time::Duration;

use tower_simplejwt::clock::{Clock, SystemClock};
use tower_simplejwt::store::sqlite::open_pool;
use tower_simplejwt::store::sqlite::SqliteTokenStore;
use tower_simplejwt::store::{MemoryTokenStore, PurgeSchedule, PurgeTask, TokenStore};
use tower_simplejwt::{Jwt, JwtBuilder};

use crate::app::Options;
use crate::Error;

/// Opens the token store named by `url`; `None` shares the users' SQLite pool.
pub async fn open(
    url: Option<&str>,
    users_pool: sqlx::SqlitePool,
) -> Result<Arc<dyn TokenStore>, Error> {
    let Some(url) = url else {
        return Ok(Arc::new(SqliteTokenStore::from_pool(users_pool).await?));
    };
    let opened: Result<Arc<dyn TokenStore>, Error> = match url.split(':').next().unwrap_or_default()
    {
        "memory" => Ok(Arc::new(MemoryTokenStore::new())),
        "sqlite" => Ok(Arc::new(SqliteTokenStore::connect(url).await?)),
        "postgres" | "postgresql" => postgres(url).await,
        "redis" | "rediss" => redis(url).await,
        _ => Err("expected memory:, sqlite://, postgres:// or redis://".into()),
    };
    opened.map_err(|error| format!("--token-store {url}: {error}").into())
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str) -> Result<Arc<dyn TokenStore>, Error> {
    use tower_simplejwt::store::postgres::PostgresTokenStore;
    Ok(Arc::new(PostgresTokenStore::connect(url).await?))
}

#[cfg(not(feature = "postgres"))]
async fn postgres(_url: &str) -> Result<Arc<dyn TokenStore>, Error> {
    Err("run the example with `--features postgres`".into())
}

#[cfg(feature = "redis")]
async fn redis(url: &str) -> Result<Arc<dyn TokenStore>, Error> {
    use tower_simplejwt::store::redis::RedisTokenStore;
    Ok(Arc::new(RedisTokenStore::connect(url).await?))
}

#[cfg(not(feature = "redis"))]
async fn redis(_url: &str) -> Result<Arc<dyn TokenStore>, Error> {
    Err("run the example with `--features redis`".into())
}

/// The builder with the trusted issuers' keys, fetched once before serving.
#[cfg(feature = "remote-jwks")]
pub async fn trust_issuers(builder: JwtBuilder, options: &Options) -> Result<JwtBuilder, Error> {
    use tower_simplejwt::remote::{RemoteIssuer, RemoteIssuers, RemoteSettings};
    let Some(audience) = options.trust_audience.as_deref() else {
        return Ok(builder);
    };
    let mut issuers = Vec::new();
    for url in &options.trust_issuers {
        let issuer = RemoteIssuer::discover(url)
            .await
            .map_err(|error| format!("--trust-issuer {url}: {error}"))?;
        issuers.push(issuer.with_audience(audience));
    }
    let remote = RemoteIssuers::start(
        &options.config,
        issuers,
        RemoteSettings::default(),
        options.clock.clone(),
    )
    .await?;
    Ok(builder.remote_issuers(remote))
}

/// Without the `remote-jwks` feature the command line accepts no trusted issuer.
#[cfg(not(feature = "remote-jwks"))]
pub async fn trust_issuers(builder: JwtBuilder, _options: &Options) -> Result<JwtBuilder, Error> {
    Ok(builder)
}

/// The token store of a subcommand: `token_store`, or the tokens kept in
/// the users' `database`. The memory store keeps nothing between runs, so a
/// command has nothing to act on there.
pub async fn open_for_command(
    database: &str,
    token_store: Option<&str>,
) -> Result<Arc<dyn TokenStore>, Error> {
    if token_store.is_some_and(|url| url.starts_with("memory:")) {
        return Err(
            "--token-store memory: keeps nothing between runs: there is nothing to act on".into(),
        );
    }
    let pool = open_pool(database)
        .await
        .map_err(|error| format!("--database {database}: {error}"))?;
    open(token_store, pool).await
}

/// `server purge`: deletes the token records past their expiry (plus the
/// leeway and clock-skew margin) now, as simplejwt's `flushexpiredtokens`,
/// and says how many.
pub async fn purge(database: &str, token_store: Option<&str>) -> Result<(), Error> {
    let store = open_for_command(database, token_store).await?;
    let purged = store.purge_expired(SystemClock.now()).await?;
    println!("purged {purged} expired token record{}", plural(purged));
    Ok(())
}

/// How often the server erases the successors kept for ended grace windows.
const WINDOWS_EVERY: Duration = Duration::from_secs(5);

/// The background purge of `--purge-every SECONDS` (`None` for 0): expired
/// records every that many seconds (and once at start), ended grace windows
/// every few seconds, at the time of the `Jwt`'s clock.
pub fn purge_in_background(jwt: &Jwt, seconds: u64) -> Option<PurgeTask> {
    let records_every = Duration::from_secs(seconds);
    if records_every.is_zero() {
        return None;
    }
    let schedule = PurgeSchedule {
        windows_every: WINDOWS_EVERY.min(records_every),
        records_every,
    };
    Some(PurgeTask::spawn_with(
        jwt.store().clone(),
        jwt.clock().clone(),
        schedule,
    ))
}

fn plural(count: u64) -> &'static str {
    match count {
        1 => "",
        _ => "s",
    }
}
