//! The token store `--token-store` names, and the trusted issuers of
//! `--trust-issuer`.

use std::sync::Arc;

use tower_simplejwt::store::sqlite::SqliteTokenStore;
use tower_simplejwt::store::{MemoryTokenStore, TokenStore};
use tower_simplejwt::JwtBuilder;

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
        "redis+cluster" => redis_cluster(url).await,
        _ => Err("expected memory:, sqlite://, postgres://, redis:// or redis+cluster://".into()),
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

/// A Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port…]`,
/// one or more of its nodes (the others are discovered).
#[cfg(feature = "redis-cluster")]
async fn redis_cluster(url: &str) -> Result<Arc<dyn TokenStore>, Error> {
    use tower_simplejwt::store::redis::RedisTokenStore;
    Ok(Arc::new(
        RedisTokenStore::connect_cluster(cluster_nodes(url)?).await?,
    ))
}

#[cfg(not(feature = "redis-cluster"))]
async fn redis_cluster(_url: &str) -> Result<Arc<dyn TokenStore>, Error> {
    Err("run the example with `--features redis-cluster`".into())
}

/// The `redis://` URL of each node of a `redis+cluster://` URL, with its credentials.
#[cfg(feature = "redis-cluster")]
fn cluster_nodes(url: &str) -> Result<Vec<String>, Error> {
    const FORM: &str = "expected redis+cluster://[user:password@]host:port[,host:port…]";
    let rest = url.strip_prefix("redis+cluster://").ok_or(FORM)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), rest),
    };
    if hosts.contains(['/', '?', '#']) {
        return Err(format!("a cluster has one database and no options: {FORM}").into());
    }
    let nodes: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(|host| format!("redis://{credentials}{host}/"))
        .collect();
    match nodes.is_empty() {
        true => Err(FORM.into()),
        false => Ok(nodes),
    }
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
