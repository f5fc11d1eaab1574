//! The example server as a user runs it: its binary, its command line, its SQLite file.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The example binary that `cargo test` builds beside the test binaries.
fn server_binary() -> PathBuf {
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

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tower-simplejwt-cli-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
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

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn serve(dir: &Path, address: SocketAddr) -> Running {
    let child = Command::new(server_binary())
        .args(["--listen", &address.to_string()])
        .current_dir(dir)
        .env("TOWER_JWT_SECRET", "cli-test-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        assert!(
            Instant::now() < deadline,
            "the example server did not start listening on {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

/// One HTTP/1.1 request over a plain socket; returns (status, JSON body).
fn post(address: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn createuser_serve_and_restart() {
    let dir = temp_dir();

    let created = run(
        &dir,
        &["createuser", "alice", "--password", "wonderland-42"],
        "",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&created.stdout).trim(),
        "created user \"alice\" with id 1"
    );

    let created = run(&dir, &["createuser", "bob", "--inactive"], "builder-42\n");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&created.stdout).trim(),
        "created user \"bob\" with id 2 (inactive)"
    );

    let duplicate = run(&dir, &["createuser", "alice", "--password", "x"], "");
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    assert!(
        dir.join("tower-simplejwt.sqlite3").exists(),
        "the default database is a file in the working directory"
    );

    let address = free_address();
    let refresh = {
        let _server = serve(&dir, address);
        let (status, pair) = post(
            address,
            "/api/token/",
            &json!({"username": "alice", "password": "wonderland-42"}),
        );
        assert_eq!(status, 200, "{pair}");
        let (status, body) = post(
            address,
            "/api/token/",
            &json!({"username": "bob", "password": "builder-42"}),
        );
        assert_eq!(
            (status, body),
            (
                401,
                json!({"detail": "No active account found with the given credentials"})
            )
        );
        let refresh = pair["refresh"].as_str().unwrap().to_owned();
        assert_eq!(
            post(
                address,
                "/api/token/blacklist/",
                &json!({"refresh": refresh})
            ),
            (200, json!({}))
        );
        refresh
    };

    let _restarted = serve(&dir, address);
    let (status, _) = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(status, 200, "users survive a restart");
    assert_eq!(
        post(address, "/api/token/refresh/", &json!({"refresh": refresh})),
        (
            401,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        ),
        "blacklisted tokens survive a restart"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_command_lines_are_refused_with_usage() {
    let dir = temp_dir();
    for args in [
        &["--bogus"][..],
        &["--access-lifetime", "0"],
        &["--database", "postgres://x"],
        &["createuser"],
    ] {
        let output = run(&dir, args, "");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("usage:"),
            "{args:?}"
        );
    }
    let empty_password = run(&dir, &["createuser", "carol"], "\n");
    assert!(!empty_password.status.success());
    std::fs::remove_dir_all(dir).unwrap();
}
