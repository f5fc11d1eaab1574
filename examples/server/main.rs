//! The guide's backend: `cargo run --example server`, then point a frontend at it.
//!
//! ```text
//! cargo run --example server -- [--listen 127.0.0.1:8000] [--database sqlite://tower-simplejwt.sqlite3]
//!                               [--access-lifetime SECONDS] [--refresh-lifetime SECONDS]
//!                               [--token-store memory:|sqlite://…|postgres://…|redis://…]
//!                               [--reuse-grace SECONDS] [--reuse-policy revoke-family|blacklist-only]
//!                               [--user-cache SECONDS] [--load-test-routes]
//! cargo run --example server -- createuser NAME [--inactive] [--password PASSWORD] [--database URL]
//! ```
//!
//! The HS256 secret comes from `TOWER_JWT_SECRET` (at least 32 bytes:
//! `server keygen --algorithm HS256` prints one); without it a random one is
//! used (and tokens die with the process).

mod app;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tower_simplejwt::clock::{Clock, SystemClock};
use tower_simplejwt::config::ReusePolicy;
use tower_simplejwt::credentials::PasswordHasher;
use tracing_subscriber::EnvFilter;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The grace window `--auto-refresh` uses when `--reuse-grace` is not given.
const DEFAULT_AUTO_REFRESH_GRACE: Duration = Duration::from_secs(10);

const USAGE: &str = "usage:
  server [--listen ADDR] [--database URL] [--access-lifetime SECONDS] [--refresh-lifetime SECONDS]
         [--token-store URL] [--reuse-grace SECONDS] [--reuse-policy revoke-family|blacklist-only]
         [--auto-refresh] [--cookies] [--user-cache SECONDS] [--load-test-routes]
         [--algorithm ALG --signing-key FILE] [--verifying-key FILE]... [--issuer URL]
         [--trust-issuer URL... --trust-audience AUDIENCE]
  server createuser NAME [--inactive] [--password PASSWORD] [--database URL]
  server keygen --algorithm ES256|ES384|EdDSA|RS256 > key.pem
  server keygen --algorithm HS256|HS384|HS512         (prints a random secret for TOWER_JWT_SECRET)

--signing-key   a PEM private key for --algorithm (RS*, PS*, ES256/384, EdDSA); tokens carry its kid
--verifying-key a PEM public key that also verifies (key rotation); SIGHUP reloads the key files
--issuer        put in tokens and required of them; also serves /.well-known/openid-configuration
--trust-issuer  also accept access tokens of this OIDC issuer, verified with its JWKS fetched over
                HTTPS (repeatable; feature remote-jwks); handlers see its users as RemoteSubject,
                never as local users
--trust-audience
                the audience (`aud`) the trusted issuers' tokens must name: this server's name
                at those issuers (required with --trust-issuer)
--database      users (and, by default, tokens): sqlite://FILE (default sqlite://tower-simplejwt.sqlite3)
--token-store   memory:, sqlite://FILE, postgres://… (feature postgres), redis://… (feature redis)
--reuse-grace   seconds a rotated refresh token still gets its successor (default 0;
                10 with --auto-refresh)
--auto-refresh  refresh an expired access token sent with X-Refresh-Token (or the refresh cookie)
--cookies       also hand out tokens as HttpOnly cookies and read them back; adds CSRF protection
--user-cache    answer a token's user from memory for SECONDS after reading it from the database
                (default: read it on every request, as DRF does); a deactivated user keeps
                access that long
--load-test-routes
                also serve GET /load-test/unprotected/ (the handler of /api/me/ without
                AuthLayer) and GET /load-test/jsonwebtoken/ (verifying with plain jsonwebtoken),
                which `benches/load-example-server.sh` compares /api/me/ with; HS256 only
--clock-file    read the time (Unix seconds) from FILE instead of the system clock; for tests

The HS256 secret is read from TOWER_JWT_SECRET (a random one when unset); it must be at least
32 bytes: export TOWER_JWT_SECRET=$(server keygen --algorithm HS256)";

#[derive(Debug)]
struct Args {
    listen: String,
    database: String,
    access_lifetime: Option<Duration>,
    refresh_lifetime: Option<Duration>,
    create_user: Option<String>,
    inactive: bool,
    password: Option<String>,
    token_store: Option<String>,
    reuse_grace: Duration,
    reuse_policy: ReusePolicy,
    clock_file: Option<PathBuf>,
    auto_refresh: bool,
    cookies: bool,
    algorithm: Option<tower_simplejwt::Algorithm>,
    signing_key: Option<PathBuf>,
    verifying_keys: Vec<PathBuf>,
    issuer: Option<String>,
    trust_issuers: Vec<String>,
    trust_audience: Option<String>,
    keygen: bool,
    user_cache: Option<Duration>,
    load_test_routes: bool,
}

impl Args {
    fn blank() -> Args {
        parse_args(std::iter::empty()).unwrap_or_else(|_| unreachable!("no arguments always parse"))
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        listen: "127.0.0.1:8000".into(),
        database: "sqlite://tower-simplejwt.sqlite3".into(),
        access_lifetime: None,
        refresh_lifetime: None,
        create_user: None,
        inactive: false,
        password: None,
        token_store: None,
        reuse_grace: Duration::ZERO,
        reuse_policy: ReusePolicy::RevokeFamily,
        clock_file: None,
        auto_refresh: false,
        cookies: false,
        algorithm: None,
        signing_key: None,
        verifying_keys: Vec::new(),
        issuer: None,
        trust_issuers: Vec::new(),
        trust_audience: None,
        keygen: false,
        user_cache: None,
        load_test_routes: false,
    };
    let seconds = |flag: &str, value: Option<String>, minimum: u64| -> Result<Duration, String> {
        let value = value.ok_or(format!("{flag} needs a value"))?;
        match value.parse::<u64>() {
            Ok(seconds) if seconds >= minimum => Ok(Duration::from_secs(seconds)),
            _ => Err(format!(
                "{flag}: {value:?} is not a number of seconds of at least {minimum}"
            )),
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => parsed.listen = args.next().ok_or("--listen needs an address")?,
            "--database" => parsed.database = args.next().ok_or("--database needs a URL")?,
            "--access-lifetime" => parsed.access_lifetime = Some(seconds(&arg, args.next(), 1)?),
            "--refresh-lifetime" => parsed.refresh_lifetime = Some(seconds(&arg, args.next(), 1)?),
            "--reuse-grace" => parsed.reuse_grace = seconds(&arg, args.next(), 0)?,
            "--reuse-policy" => {
                parsed.reuse_policy = match args.next().as_deref() {
                    Some("revoke-family") => ReusePolicy::RevokeFamily,
                    Some("blacklist-only") => ReusePolicy::BlacklistOnly,
                    other => {
                        return Err(format!(
                            "--reuse-policy {other:?}: expected revoke-family or blacklist-only"
                        ))
                    }
                }
            }
            "--token-store" => {
                parsed.token_store = Some(args.next().ok_or("--token-store needs a URL")?)
            }
            "--clock-file" => {
                parsed.clock_file = Some(args.next().ok_or("--clock-file needs a path")?.into())
            }
            "--inactive" => parsed.inactive = true,
            "--auto-refresh" => parsed.auto_refresh = true,
            "--user-cache" => parsed.user_cache = Some(seconds(&arg, args.next(), 1)?),
            "--load-test-routes" => parsed.load_test_routes = true,
            "--cookies" => parsed.cookies = true,
            "--algorithm" => {
                let name = args.next().ok_or("--algorithm needs a name")?;
                parsed.algorithm = Some(
                    name.parse()
                        .map_err(|_| format!("--algorithm {name:?}: not a JWT algorithm"))?,
                );
            }
            "--signing-key" => {
                parsed.signing_key = Some(args.next().ok_or("--signing-key needs a file")?.into())
            }
            "--verifying-key" => parsed
                .verifying_keys
                .push(args.next().ok_or("--verifying-key needs a file")?.into()),
            "--issuer" => parsed.issuer = Some(args.next().ok_or("--issuer needs a URL")?),
            "keygen" => parsed.keygen = true,
            "--trust-issuer" => parsed
                .trust_issuers
                .push(args.next().ok_or("--trust-issuer needs a URL")?),
            "--trust-audience" => {
                parsed.trust_audience =
                    Some(args.next().ok_or("--trust-audience needs an audience")?)
            }
            "--password" => parsed.password = Some(args.next().ok_or("--password needs a value")?),
            "createuser" => {
                parsed.create_user = Some(args.next().ok_or("createuser needs a NAME")?)
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !parsed.database.starts_with("sqlite:") {
        return Err(format!(
            "--database {:?}: only sqlite:// URLs are supported by this example",
            parsed.database
        ));
    }
    Ok(parsed)
}

/// The HS256 secret from `TOWER_JWT_SECRET`, or a random one when it is unset.
fn secret() -> Result<String, Error> {
    let algorithm = tower_simplejwt::Algorithm::HS256;
    let minimum = tower_simplejwt::keys::min_secret_bytes(algorithm).unwrap_or(32);
    match std::env::var("TOWER_JWT_SECRET") {
        Ok(secret) if !secret.is_empty() => {
            if secret.len() < minimum {
                return Err(format!(
                    "TOWER_JWT_SECRET is {} bytes, but an {algorithm:?} secret must be at least \
                     {minimum} bytes (RFC 7518 §3.2; a short secret can be guessed offline from \
                     one captured token): make one with \
                     `export TOWER_JWT_SECRET=$(server keygen --algorithm {algorithm:?})`",
                    secret.len()
                )
                .into());
            }
            Ok(secret)
        }
        _ => {
            tracing::warn!("TOWER_JWT_SECRET is not set: using a random secret, so tokens die with this process");
            Ok(random_secret(minimum))
        }
    }
}

/// `bytes` random bytes as hex text (twice as many characters).
fn random_secret(bytes: usize) -> String {
    use rand::RngCore;
    let mut random = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut random);
    random.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A clock read from a file holding Unix seconds, so that tests spanning
/// several processes can move time without sleeping. An unreadable file
/// falls back to the system clock.
#[derive(Debug)]
struct FileClock {
    path: PathBuf,
}

impl Clock for FileClock {
    fn now(&self) -> u64 {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or_else(|| SystemClock.now())
    }
}

fn read_password() -> Result<String, Error> {
    if std::io::stdin().is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("the password may not be empty".into());
    }
    Ok(password)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}\n");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run(args).await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

/// What `keygen` prints: a new private key (PKCS#8 PEM) for an asymmetric
/// algorithm, or a random secret (hex, one line) as long as the hash output
/// for an HMAC one.
fn generate_key(algorithm: tower_simplejwt::Algorithm) -> Result<String, Error> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    use tower_simplejwt::Algorithm;
    if let Some(minimum) = tower_simplejwt::keys::min_secret_bytes(algorithm) {
        return Ok(format!("{}\n", random_secret(minimum)));
    }
    let mut rng = rand::rngs::OsRng;
    let pem = match algorithm {
        Algorithm::ES256 => p256::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF)?,
        Algorithm::ES384 => p384::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF)?,
        Algorithm::EdDSA => {
            // PKCS#8 v1 (the seed only), the form jsonwebtoken and OpenSSL read.
            let seed = ed25519_dalek::SigningKey::generate(&mut rng).to_bytes();
            ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: seed,
                public_key: None,
            }
            .to_pkcs8_pem(LineEnding::LF)?
        }
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => {
            rsa::RsaPrivateKey::new(&mut rng, 2048)?.to_pkcs8_pem(LineEnding::LF)?
        }
        other => return Err(format!("keygen: {other:?} is not supported").into()),
    };
    Ok(pem.to_string())
}

/// The key options from the files named on the command line.
fn key_options(args: &Args) -> Result<app::KeyOptions, Error> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))
    };
    if args.signing_key.is_some() != args.algorithm.is_some() {
        return Err("--signing-key and --algorithm go together".into());
    }
    Ok(app::KeyOptions {
        algorithm: args.algorithm,
        signing_key_pem: args.signing_key.as_ref().map(read).transpose()?,
        verifying_key_pems: args
            .verifying_keys
            .iter()
            .map(read)
            .collect::<Result<_, _>>()?,
        issuer: args.issuer.clone(),
    })
}

async fn run(args: Args) -> Result<(), Error> {
    if args.keygen {
        let algorithm = args
            .algorithm
            .ok_or("keygen needs --algorithm ES256|ES384|EdDSA|RS256|HS256|HS384|HS512")?;
        print!("{}", generate_key(algorithm)?);
        return Ok(());
    }
    // The HS256 secret matters only when no private key signs.
    let secret = if args.create_user.is_some() || args.signing_key.is_some() {
        random_secret(32)
    } else {
        secret()?
    };
    let options = app::Options {
        database: args.database.clone(),
        secret,
        access_lifetime: args.access_lifetime,
        refresh_lifetime: args.refresh_lifetime,
        clock: match args.clock_file.clone() {
            Some(path) => Arc::new(FileClock { path }),
            None => Arc::new(SystemClock),
        },
        hasher: PasswordHasher::default(),
        token_store: args.token_store.clone(),
        // Automatic refresh needs a grace window: parallel requests carrying
        // the same expired pair must all get the same successor.
        reuse_grace: match (args.auto_refresh, args.reuse_grace.is_zero()) {
            (true, true) => DEFAULT_AUTO_REFRESH_GRACE,
            _ => args.reuse_grace,
        },
        reuse_policy: args.reuse_policy,
        auto_refresh: args.auto_refresh,
        cookies: args.cookies,
        keys: key_options(&args)?,
        trust_issuers: args.trust_issuers.clone(),
        trust_audience: args.trust_audience.clone(),
        user_cache: args.user_cache,
        load_test_routes: args.load_test_routes,
    };
    let hasher = options.hasher.clone();
    let app = app::build(options).await?;
    if let Some(name) = args.create_user {
        let password = match args.password {
            Some(password) => password,
            None => read_password()?,
        };
        let id = app::create_user(&app.users, &hasher, &name, &password, !args.inactive).await?;
        println!(
            "created user {name:?} with id {id}{}",
            if args.inactive { " (inactive)" } else { "" }
        );
        return Ok(());
    }
    reload_keys_on_sighup(&args, app.jwt.clone());
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        database = %args.database,
        token_store = args.token_store.as_deref().unwrap_or("the users' database"),
        "serving the simplejwt guide's endpoints"
    );
    axum::serve(listener, app.router)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

/// SIGHUP re-reads the key files and swaps the key set; requests never wait.
fn reload_keys_on_sighup(args: &Args, jwt: tower_simplejwt::Jwt) {
    #[cfg(unix)]
    {
        let (algorithm, signing, verifying, issuer) = (
            args.algorithm,
            args.signing_key.clone(),
            args.verifying_keys.clone(),
            args.issuer.clone(),
        );
        tokio::spawn(async move {
            let Ok(mut hangups) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hangups.recv().await.is_some() {
                let args = Args {
                    algorithm,
                    signing_key: signing.clone(),
                    verifying_keys: verifying.clone(),
                    issuer: issuer.clone(),
                    ..Args::blank()
                };
                match key_options(&args).and_then(|keys| app::key_set(&keys)) {
                    Ok(Some(keys)) => {
                        jwt.codec().set_key_set(keys);
                        tracing::info!("keys reloaded");
                    }
                    Ok(None) => tracing::warn!("SIGHUP: no --signing-key to reload"),
                    Err(error) => {
                        tracing::error!(%error, "SIGHUP: keys not reloaded, the old ones stay")
                    }
                }
            }
        });
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
