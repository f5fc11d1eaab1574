//! Running the example server binary as a user would, and talking to it over plain sockets.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const SECRET: &str = "process-test-secret-of-at-least-32-bytes";

/// The example binary that `cargo test` builds beside the test binaries
/// (with the same features as the tests).
pub fn server_binary() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let binary = deps
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "the example binary is missing at {}: run `cargo test`, which builds it",
        binary.display()
    );
    binary
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tower-simplejwt-{name}-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary to completion with `stdin`.
pub fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(server_binary())
        .args(args)
        .current_dir(dir)
        .env_remove("TOWER_JWT_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A child process killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub fn wait_until_listening(address: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the example server in `dir` on `address` with extra arguments.
pub fn serve(dir: &Path, address: SocketAddr, extra: &[&str]) -> Running {
    let log = std::fs::File::create(dir.join(format!("server-{}.log", address.port()))).unwrap();
    let child = Command::new(server_binary())
        .args(["--listen", &address.to_string()])
        .args(extra)
        .current_dir(dir)
        .env("TOWER_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        if let Ok(Some(status)) = running.0.try_wait() {
            let log = std::fs::read_to_string(dir.join(format!("server-{}.log", address.port())))
                .unwrap_or_default();
            panic!("the example server exited ({status}) before listening on {address}:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "the example server did not start listening on {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

/// An HTTP answer: status, headers (lower-case names), JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// One HTTP/1.1 GET over a plain socket.
pub fn get(address: SocketAddr, path: &str) -> Answer {
    exchange(
        address,
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"),
    )
}

/// One HTTP/1.1 POST of a JSON body over a plain socket.
pub fn post(address: SocketAddr, path: &str, body: &Value) -> Answer {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(address, request)
}

/// One HTTP/1.1 POST of a JSON body with extra request headers.
pub fn post_with(
    address: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Answer {
    let body = body.to_string();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(address, request)
}

fn exchange(address: SocketAddr, request: String) -> Answer {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// Creates a user through the binary's `createuser`, in `dir`'s default database or `database`.
pub fn create_user(dir: &Path, name: &str, password: &str, database: Option<&str>) {
    let mut args = vec!["createuser", name, "--password", password];
    if let Some(database) = database {
        args.extend(["--database", database]);
    }
    let output = run(dir, &args, "");
    assert!(
        output.status.success(),
        "createuser failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A clock file the servers read their time from (`--clock-file`).
pub struct ClockFile {
    pub path: PathBuf,
    now: std::cell::Cell<u64>,
}

impl ClockFile {
    pub fn new(dir: &Path) -> ClockFile {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let clock = ClockFile {
            path: dir.join("clock"),
            now: std::cell::Cell::new(now),
        };
        clock.write();
        clock
    }

    fn write(&self) {
        let temporary = self.path.with_extension("next");
        std::fs::write(&temporary, self.now.get().to_string()).unwrap();
        std::fs::rename(&temporary, &self.path).unwrap();
    }

    pub fn advance(&self, seconds: u64) {
        self.now.set(self.now.get() + seconds);
        self.write();
    }

    pub fn arg(&self) -> String {
        self.path.display().to_string()
    }
}
