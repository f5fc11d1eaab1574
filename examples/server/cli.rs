//! The command line: `server [OPTIONS]` serves; `server createuser`,
//! `changepassword`, `deactivate` and `import` manage users, `server purge`
//! the token records and `server keygen` keys. Every value is checked here,
//! before anything is opened or created.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tower_simplejwt::config::ReusePolicy;
use tower_simplejwt::Algorithm;

/// The grace window `--auto-refresh` uses when `--reuse-grace` is not given.
const DEFAULT_AUTO_REFRESH_GRACE: Duration = Duration::from_secs(10);

const AFTER_HELP: &str = "\
Examples:
  server createuser alice --password wonderland-42
  export TOWER_JWT_SECRET=$(server keygen --algorithm HS256)
  server --listen 127.0.0.1:8000
  server keygen --algorithm ES256 > es256.pem
  server --algorithm ES256 --signing-key es256.pem --issuer http://127.0.0.1:8000
  server --cors-origin http://localhost:5173 --auto-refresh
  server import users.json    # from `manage.py dumpdata auth.user > users.json`
  server purge                # simplejwt's flushexpiredtokens

GET /healthz answers while the process runs, GET /readyz while the stores answer
(503 otherwise), GET /metrics in the Prometheus text format. SIGTERM or Ctrl-C
stops accepting and lets requests in flight finish (--shutdown-timeout).

Logs go to standard error at the level RUST_LOG names (default: info, without
a line per request; --log-requests or RUST_LOG=info adds one).";

/// The djangorestframework-simplejwt guide's backend: the token endpoints
/// under /api/token/, GET /api/me/ behind a valid access token, and a demo
/// page at /.
#[derive(Debug, Parser)]
#[command(name = "server", after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The users (and, by default, the tokens): sqlite://FILE, created if missing
    #[arg(
        long,
        global = true,
        value_name = "URL",
        default_value = "sqlite://tower-simplejwt.sqlite3",
        value_parser = sqlite_url
    )]
    pub database: String,

    #[command(flatten)]
    pub serve: ServeArgs,
}

/// What the subcommands do instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a user in --database (ids are given in order: 1, 2, …)
    Createuser {
        /// The username
        name: String,
        /// Create the user inactive: it cannot log in
        #[arg(long)]
        inactive: bool,
        /// The password (read from standard input when not given)
        #[arg(long)]
        password: Option<String>,
    },
    /// Set the password of a user in --database and log out its sessions (its refresh tokens are
    /// revoked)
    Changepassword {
        /// The username
        name: String,
        /// The new password (read from standard input when not given)
        #[arg(long)]
        password: Option<String>,
        /// Where the user's refresh tokens live, as the server's --token-store (default: --database)
        #[arg(long, value_name = "URL", value_parser = token_store_url)]
        token_store: Option<String>,
    },
    /// Deactivate a user in --database: it can no longer log in, its tokens are refused and its
    /// refresh tokens revoked
    Deactivate {
        /// The username
        name: String,
        /// Where the user's refresh tokens live, as the server's --token-store (default: --database)
        #[arg(long, value_name = "URL", value_parser = token_store_url)]
        token_store: Option<String>,
    },
    /// Import users from a Django `manage.py dumpdata auth.user` JSON file; ids and
    /// pbkdf2_sha256 hashes are kept, so Django's tokens and passwords keep working
    Import {
        /// The JSON dump (`-` reads standard input)
        file: PathBuf,
    },
    /// Delete the token records past their expiry now (simplejwt's flushexpiredtokens)
    Purge {
        /// The token store, as the server's --token-store (default: --database)
        #[arg(long, value_name = "URL", value_parser = token_store_url)]
        token_store: Option<String>,
    },
    /// Print a new key: a PEM private key for an asymmetric algorithm, or a
    /// random secret for TOWER_JWT_SECRET for an HMAC one
    Keygen {
        /// ES256, ES384, EdDSA, RS256 (RS*/PS*: RSA 2048), or HS256, HS384, HS512
        #[arg(long, value_name = "ALG", value_parser = algorithm)]
        algorithm: Algorithm,
    },
}

/// The options of the server itself.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
    pub listen: String,

    /// The HS256 secret, at least 32 bytes; without it a random one is used and tokens die with the
    /// process
    #[arg(
        long,
        value_name = "SECRET",
        env = "TOWER_JWT_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,

    /// Access tokens live SECONDS (default 7200, the guide's 2 hours)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub access_lifetime: Option<u64>,

    /// Refresh tokens live SECONDS (default 604800, the guide's 7 days)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub refresh_lifetime: Option<u64>,

    /// Where refresh tokens live: memory:, sqlite://FILE, postgres://… (feature postgres),
    /// redis://… (feature redis); default: the users' database
    #[arg(long, value_name = "URL", value_parser = token_store_url)]
    pub token_store: Option<String>,

    /// Seconds a rotated refresh token still gets its successor (parallel tabs, retries after a lost
    /// reply); default 0, 10 with --auto-refresh
    #[arg(long, value_name = "SECONDS")]
    pub reuse_grace: Option<u64>,

    /// What a refresh token replayed after the grace window revokes
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = ReuseRule::RevokeFamily)]
    pub reuse_policy: ReuseRule,

    /// Refresh an expired access token sent with X-Refresh-Token (or the refresh cookie) on the fly
    #[arg(long)]
    pub auto_refresh: bool,

    /// Also hand out the tokens as HttpOnly cookies and read them back; adds CSRF protection
    #[arg(long)]
    pub cookies: bool,

    /// Answer a token's user from memory for SECONDS after reading it from the database (default:
    /// read it on every request, as DRF does); a deactivated user keeps access that long
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub user_cache: Option<u64>,

    /// Sign with this algorithm and --signing-key instead of the HS256 secret
    #[arg(long, value_name = "ALG", value_parser = algorithm, requires = "signing_key")]
    pub algorithm: Option<Algorithm>,

    /// A PEM private key for --algorithm (RS*, PS*, ES256/384, EdDSA); tokens carry its kid, and
    /// SIGHUP reloads the key files
    #[arg(long, value_name = "FILE", requires = "algorithm")]
    pub signing_key: Option<PathBuf>,

    /// A PEM public key that also verifies (key rotation); repeatable
    #[arg(long, value_name = "FILE", requires = "signing_key")]
    pub verifying_key: Vec<PathBuf>,

    /// Put in tokens and required of them; also serves /.well-known/openid-configuration
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// Also accept access tokens of this OIDC issuer, verified with its JWKS fetched over HTTPS
    /// (repeatable; feature remote-jwks); GET /api/me/ answers its users with their issuer
    #[arg(long, value_name = "URL", requires = "trust_audience", value_parser = trusted_issuer)]
    pub trust_issuer: Vec<String>,

    /// The audience (aud) the trusted issuers' tokens must name: this server's name at those issuers
    #[arg(long, value_name = "AUDIENCE", requires = "trust_issuer")]
    pub trust_audience: Option<String>,

    /// Let this origin call the API from a browser (CORS; e.g. http://localhost:5173); repeatable.
    /// With --cookies its requests carry the cookies and pass the CSRF check
    #[arg(long, value_name = "ORIGIN", value_parser = cors_origin)]
    pub cors_origin: Vec<String>,

    /// Delete the token records past their expiry every SECONDS in the background, as `server purge`
    /// does (0: never; ended grace windows are then erased only by `server purge` too)
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub purge_every: u64,

    /// On SIGTERM or Ctrl-C, wait at most SECONDS for requests in flight before exiting
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub shutdown_timeout: u64,

    /// Log a line per request (method, path, status) at INFO
    #[arg(long)]
    pub log_requests: bool,

    /// Read the time (Unix seconds) from FILE instead of the system clock (a test hook)
    #[arg(long, value_name = "FILE", hide = true)]
    pub clock_file: Option<PathBuf>,

    /// Also serve the twins of GET /api/me/ the load benchmark compares it with, and a slow route
    /// that shutdown tests keep in flight (a bench and test hook)
    #[arg(long, hide = true)]
    pub load_test_routes: bool,
}

impl ServeArgs {
    /// The reuse grace window: automatic refresh needs one, since parallel
    /// requests carrying the same expired pair must all get the same successor.
    pub fn reuse_grace(&self) -> Duration {
        match (self.reuse_grace.unwrap_or(0), self.auto_refresh) {
            (0, true) => DEFAULT_AUTO_REFRESH_GRACE,
            (seconds, _) => Duration::from_secs(seconds),
        }
    }
}

/// `--reuse-policy`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReuseRule {
    /// Revoke the replayed token's whole family (RFC 9700)
    RevokeFamily,
    /// Refuse just the replayed token, as the reference does
    BlacklistOnly,
}

impl From<ReuseRule> for ReusePolicy {
    fn from(rule: ReuseRule) -> Self {
        match rule {
            ReuseRule::RevokeFamily => ReusePolicy::RevokeFamily,
            ReuseRule::BlacklistOnly => ReusePolicy::BlacklistOnly,
        }
    }
}

const ALGORITHMS: &str =
    "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA";

fn algorithm(name: &str) -> Result<Algorithm, String> {
    name.parse()
        .map_err(|_| format!("not a JWT algorithm (expected one of {ALGORITHMS})"))
}

fn sqlite_url(url: &str) -> Result<String, String> {
    match url.starts_with("sqlite:") {
        true => Ok(url.to_owned()),
        false => Err(
            "the users live in SQLite: expected sqlite://FILE (put the tokens elsewhere with \
             --token-store)"
                .into(),
        ),
    }
}

fn token_store_url(url: &str) -> Result<String, String> {
    let feature = match url.split(':').next().unwrap_or_default() {
        "memory" | "sqlite" => None,
        "postgres" | "postgresql" => (!cfg!(feature = "postgres")).then_some("postgres"),
        "redis" | "rediss" => (!cfg!(feature = "redis")).then_some("redis"),
        _ => return Err("expected memory:, sqlite://FILE, postgres://… or redis://…".into()),
    };
    match feature {
        None => Ok(url.to_owned()),
        Some(feature) => Err(format!(
            "this build has no {feature} store: run the example with `--features {feature}`"
        )),
    }
}

/// An origin as browsers send it: scheme, host and optional port, nothing after.
fn cors_origin(origin: &str) -> Result<String, String> {
    let refuse = || {
        Err(format!(
            "not an origin as a browser sends it (expected scheme://host[:port] in lowercase, no \
             path, e.g. http://localhost:5173): {origin:?}"
        ))
    };
    let Some((scheme, rest)) = origin.split_once("://") else {
        return refuse();
    };
    let plain = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-.:[]".contains(&byte))
    };
    // Browsers send the host in lowercase: any other spelling never matches.
    let lowercase = !rest.bytes().any(|byte| byte.is_ascii_uppercase());
    match ["http", "https"].contains(&scheme) && plain(rest) && lowercase {
        true => Ok(origin.to_owned()),
        false => refuse(),
    }
}

fn trusted_issuer(url: &str) -> Result<String, String> {
    match cfg!(feature = "remote-jwks") {
        true => Ok(url.to_owned()),
        false => Err(
            "this build cannot fetch JWKS: run the example with `--features remote-jwks`".into(),
        ),
    }
}
