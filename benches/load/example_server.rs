//! The servers of the `--example-server` run: the example server's binary
//! (`cargo build --release --example server`), started twice on one SQLite
//! database with its load-test twins of `GET /api/me/`: once as it starts
//! by default (the user read from SQLite on every request, as DRF does),
//! once with `--user-cache 60`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::rounds::Target;

const SECRET: &str = "load-test-secret-of-a-sensible-length";
const PASSWORD: &str = "wonderland-42";

/// The started servers; dropping it stops them and deletes their database.
pub struct Servers {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where `cargo build --release --example server` puts the binary, beside
/// this bench's own (`target/release/deps/load-…`).
pub fn default_binary() -> PathBuf {
    let bench = std::env::current_exe().expect("the bench's own path");
    let release = bench
        .parent()
        .and_then(Path::parent)
        .expect("the bench runs from target/release/deps");
    release.join("examples").join("server")
}

/// Starts the two servers from `binary` and logs alice in; the targets are
/// the unprotected twin (the baseline), `GET /api/me/` and the plain
/// jsonwebtoken twin of each.
pub fn targets(binary: &Path) -> (Servers, Vec<Target>) {
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build --release --example server` first \
         (benches/load-example-server.sh does)",
        binary.display()
    );
    let dir = std::env::temp_dir().join(format!("tower-simplejwt-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}", dir.join("server.sqlite3").display());
    let created = Command::new(binary)
        .args(["createuser", "alice", "--password", PASSWORD])
        .args(["--database", &database])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "createuser failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let mut servers = Servers {
        children: Vec::new(),
        dir,
    };
    let by_default = start(&mut servers, binary, &database, &[]);
    let cached = start(&mut servers, binary, &database, &["--user-cache", "60"]);
    let token = log_in(by_default.port);
    let target = |name: &str, server: &Started, path: &str| Target {
        name: name.to_owned(),
        url: format!("http://127.0.0.1:{}{path}", server.port),
        token: token.clone(),
        pid: server.pid,
        baseline: 0,
    };
    let targets = vec![
        target(
            "/load-test/unprotected/ (no verification)",
            &by_default,
            "/load-test/unprotected/",
        ),
        target("/api/me/ (AuthLayer)", &by_default, "/api/me/"),
        target(
            "/load-test/jsonwebtoken/ (plain jsonwebtoken)",
            &by_default,
            "/load-test/jsonwebtoken/",
        ),
        target("/api/me/ (AuthLayer), --user-cache 60", &cached, "/api/me/"),
        target(
            "/load-test/jsonwebtoken/, --user-cache 60",
            &cached,
            "/load-test/jsonwebtoken/",
        ),
    ];
    (servers, targets)
}

struct Started {
    port: u16,
    pid: u32,
}

/// Starts one server with `extra` arguments and waits until it answers.
fn start(servers: &mut Servers, binary: &Path, database: &str, extra: &[&str]) -> Started {
    let port = free_port();
    let child = Command::new(binary)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--database", database, "--load-test-routes"])
        .args(extra)
        .env("TOWER_JWT_SECRET", SECRET)
        // One log line per request would be most of what is measured.
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    servers.children.push(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let child = servers.children.last_mut().unwrap();
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the example server {extra:?} exited with {status} before answering");
        }
        assert!(
            Instant::now() < deadline,
            "the example server does not answer on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Started { port, pid }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `POST /api/token/` as alice; the access token of the answer.
fn log_in(port: u16) -> String {
    let body = format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "login failed:\n{response}"
    );
    let pair: serde_json::Value = serde_json::from_str(body).unwrap();
    pair["access"].as_str().unwrap().to_owned()
}
