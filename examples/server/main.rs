//! The guide's backend: `cargo run --example server`, then point a frontend at it.
//!
//! ```text
//! cargo run --example server -- --help
//! cargo run --example server -- createuser alice --password wonderland-42
//! export TOWER_JWT_SECRET=$(cargo run -q --example server -- keygen --algorithm HS256)
//! cargo run --example server -- --listen 127.0.0.1:8000
//! ```
//!
//! It runs as a service: `GET /healthz` and `GET /readyz` for probes,
//! `GET /metrics` for Prometheus, a drain of the requests in flight on
//! SIGTERM or Ctrl-C, and `server purge` for a cron job.
//!
//! Every argument is checked (and the key files read) before the database
//! is opened or the address taken, so a mistake creates no file.

mod app;
mod cli;
mod cors;
mod health;
mod hooks;
mod import;
mod keys;
mod metrics;
mod openapi;
mod shutdown;
mod stores;
mod timed_store;
mod users;

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use tower_simplejwt::clock::{SharedClock, SystemClock};
use tower_simplejwt::config::{AutoRefreshSettings, CookieSettings, JwtConfig};
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command, ServeArgs};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    let cli = Cli::try_parse().unwrap_or_else(|error| refuse(error));
    let log_requests = cli.command.is_none() && cli.serve.log_requests;
    init_logging(log_requests);
    let outcome = match cli.command {
        Some(Command::Keygen { algorithm }) => keys::generate(algorithm).map(|key| print!("{key}")),
        Some(Command::Createuser {
            name,
            inactive,
            password,
        }) => users::create(&cli.database, &name, password, !inactive).await,
        Some(Command::Changepassword {
            name,
            password,
            token_store,
        }) => users::change_password(&cli.database, &name, password, token_store.as_deref()).await,
        Some(Command::Deactivate { name, token_store }) => {
            users::deactivate(&cli.database, &name, token_store.as_deref()).await
        }
        Some(Command::Import { file }) => import::run(&cli.database, &file).await,
        Some(Command::Purge { token_store }) => {
            stores::purge(&cli.database, token_store.as_deref()).await
        }
        None => serve(cli.database, cli.serve).await,
    };
    if let Err(error) = outcome {
        eprintln!("error: {}", with_causes(error.as_ref()));
        std::process::exit(1);
    }
}

/// `error` and the errors that caused it, outermost first.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their cause in their own message.
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// Prints a command-line error with the usage and exits with status 2;
/// `--help` goes to standard output with status 0.
fn refuse(error: clap::Error) -> ! {
    if error.use_stderr() {
        let message = error.render().to_string();
        eprint!("{message}");
        if !message.contains("Usage:") {
            eprintln!("\n{}", Cli::command().render_usage());
        }
        std::process::exit(error.exit_code());
    }
    error.exit()
}

/// Logs on standard error, coloured only on a terminal, at `RUST_LOG`'s
/// levels (default `info`). The line per request is off by default:
/// `--log-requests` turns it on, as does a `RUST_LOG` that enables it.
fn init_logging(log_requests: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::new(directives),
        _ => EnvFilter::new(format!("info,{}=warn", app::REQUEST_LOG)),
    };
    let directive = format!("{}=info", app::REQUEST_LOG).parse();
    let filter = match (log_requests, directive) {
        (true, Ok(directive)) => filter.add_directive(directive),
        _ => filter,
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn serve(database: String, args: ServeArgs) -> Result<(), Error> {
    let key_files = match (args.algorithm, &args.signing_key) {
        (Some(algorithm), Some(signing_key)) => Some(keys::KeyFiles {
            algorithm,
            signing_key: signing_key.clone(),
            verifying_keys: args.verifying_key.clone(),
        }),
        _ => None,
    };
    let loaded = key_files.as_ref().map(keys::KeyFiles::load).transpose()?;
    let mut config = match &loaded {
        // The HS256 secret matters only when no private key signs.
        None => JwtConfig::simplejwt_guide(keys::secret(args.secret.as_deref())?),
        Some(keys) => {
            let mut config = JwtConfig::simplejwt_guide(keys::random_secret(32));
            config.algorithm = keys.algorithm;
            config.signing_key = keys.signing_key_pem.as_str().into();
            config
        }
    };
    if let Some(seconds) = args.access_lifetime {
        config = config.with_access_token_lifetime(Duration::from_secs(seconds));
    }
    if let Some(seconds) = args.refresh_lifetime {
        config = config.with_refresh_token_lifetime(Duration::from_secs(seconds));
    }
    if args.auto_refresh {
        config = config.with_auto_refresh(AutoRefreshSettings::enabled());
    }
    if args.cookies {
        config = config.with_cookies(CookieSettings::enabled());
    }
    // The guide's migration mode needs a store that survives a restart.
    let scheme = args
        .token_store
        .as_deref()
        .and_then(|url| url.split(':').next());
    if scheme == Some("memory") {
        config = config.with_migration_mode(false);
    }
    if let Some(issuer) = &args.issuer {
        config = config.with_issuer(issuer.clone());
    }
    let config = config.with_reuse(args.reuse_grace(), args.reuse_policy.into());
    let clock: SharedClock = match args.clock_file.clone() {
        Some(path) => Arc::new(hooks::FileClock { path }),
        None => Arc::new(SystemClock),
    };

    let metrics = metrics::install()?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
    let (router, jwt) = app::build(app::Options {
        database: database.clone(),
        config,
        clock,
        token_store: args.token_store.clone(),
        key_set: loaded.map(|keys| keys.key_set),
        trust_issuers: args.trust_issuer.clone(),
        trust_audience: args.trust_audience.clone(),
        user_cache: args.user_cache.map(Duration::from_secs),
        log_requests: tracing::enabled!(target: app::REQUEST_LOG, tracing::Level::INFO),
        load_test_routes: args.load_test_routes,
        cors_origins: args.cors_origin.clone(),
        metrics,
    })
    .await?;
    // Runs until the handle is dropped, when serving ends.
    let _purging = stores::purge_in_background(&jwt, args.purge_every);
    if let Some(files) = key_files {
        files.reload_on_sighup(jwt);
    }
    tracing::info!(
        address = %listener.local_addr()?,
        database = %database,
        token_store = args.token_store.as_deref().unwrap_or("the users' database"),
        "serving the simplejwt guide's endpoints"
    );
    shutdown::serve(listener, router, Duration::from_secs(args.shutdown_timeout)).await
}
