//! The example server run as a service: graceful shutdown, health and
//! readiness probes, Prometheus metrics, CORS, and the maintenance
//! subcommands, each seen from outside the process.

mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use process::*;

/// An answer read as text: status, headers (lower-case names), body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends one request: `head` is the request line and headers without the
/// `Host` and `Connection` lines, which are added.
fn send(address: SocketAddr, head: &str, body: &str) -> Reply {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = head.replace('\n', "\r\n");
    request.push_str(&format!(
        "Host: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
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
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn get_text(address: SocketAddr, path: &str) -> Reply {
    send(address, &format!("GET {path} HTTP/1.1\n"), "")
}

/// The value of the sample `name{labels…}` in a Prometheus text page (0
/// when absent: a counter that never moved is not rendered).
fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (series_name, series_labels) = series
                .split_once('{')
                .map_or((*series, ""), |(name, rest)| (name, rest));
            series_name == name
                && labels
                    .iter()
                    .all(|(key, value)| series_labels.contains(&format!("{key}=\"{value}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

fn metrics_page(address: SocketAddr) -> String {
    let reply = get_text(address, "/metrics");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply
            .header("content-type")
            .is_some_and(|value| value.starts_with("text/plain; version=0.0.4")),
        "{reply:?}"
    );
    reply.body
}

fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the server's exit, at most `seconds`; `None` if it still runs.
fn exit_code(server: &mut Running, seconds: u64) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if let Some(status) = server.0.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[cfg(unix)]
fn signal(server: &Running, name: &str) {
    let pid = server.0.id().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{name} {pid}");
}

fn login(address: SocketAddr) -> serde_json::Value {
    let answer = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body
}

#[cfg(unix)]
#[test]
fn sigterm_and_ctrl_c_let_a_slow_request_finish_then_exit_0() {
    let dir = temp_dir("drain");
    for name in ["TERM", "INT"] {
        let address = free_address();
        let mut server = serve(&dir, address, &["--load-test-routes"]);
        let slow = std::thread::spawn(move || get_text(address, "/load-test/slow/?ms=3000"));
        wait_for("the slow request to be in flight", 10, || {
            get(address, "/load-test/in-flight/").body["in_flight"] == 1
        });

        signal(&server, name);
        wait_for("the listener to close", 10, || {
            TcpStream::connect(address).is_err()
        });
        assert!(
            !slow.is_finished(),
            "SIG{name}: refused while still draining"
        );
        let answer = slow.join().unwrap();
        assert_eq!(answer.status, 200, "SIG{name}: {answer:?}");
        assert_eq!(answer.json(), json!({"slept_ms": 3000}), "SIG{name}");
        assert_eq!(exit_code(&mut server, 10), Some(0), "SIG{name}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn the_drain_is_bounded_by_the_shutdown_timeout() {
    let dir = temp_dir("drain-bound");
    let address = free_address();
    let mut server = serve(
        &dir,
        address,
        &["--load-test-routes", "--shutdown-timeout", "1"],
    );
    let hanging = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET /load-test/slow/?ms=60000 HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    });
    wait_for("the slow request to be in flight", 10, || {
        get(address, "/load-test/in-flight/").body["in_flight"] == 1
    });
    let signalled = Instant::now();
    signal(&server, "TERM");
    assert_eq!(exit_code(&mut server, 20), Some(0));
    assert!(
        signalled.elapsed() < Duration::from_secs(15),
        "exited after --shutdown-timeout, not after the request"
    );
    assert_eq!(hanging.join().unwrap(), "", "the hanging request was cut");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn healthz_and_readyz_answer_while_the_stores_do() {
    let dir = temp_dir("health");
    let address = free_address();
    let _server = serve(&dir, address, &[]);
    for path in ["/healthz", "/readyz"] {
        let answer = get(address, path);
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
        assert_eq!(answer.body, json!({"status": "ok"}), "{path}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A Redis server of the test's own on `port`, keeping nothing on disk.
#[cfg(feature = "redis")]
fn redis_server(dir: &std::path::Path, port: u16) -> Running {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--dir", &dir.display().to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-server must be installed (Debian package redis-server)");
    let running = Running(child);
    wait_until_listening(SocketAddr::from(([127, 0, 0, 1], port)), "redis-server");
    running
}

#[cfg(feature = "redis")]
#[test]
fn readyz_turns_503_while_the_token_store_is_down_and_200_after() {
    let dir = temp_dir("readyz");
    create_user(&dir, "alice", "wonderland-42", None);
    let port = free_address().port();
    let mut redis = Some(redis_server(&dir, port));
    let address = free_address();
    let store = format!("redis://127.0.0.1:{port}/");
    let _server = serve(&dir, address, &["--token-store", &store]);
    assert_eq!(get(address, "/readyz").status, 200);

    drop(redis.take());
    let mut answer = get(address, "/readyz");
    wait_for("/readyz to answer 503", 30, || {
        answer = get(address, "/readyz");
        answer.status == 503
    });
    assert_eq!(
        answer.body,
        json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"})
    );
    assert_eq!(answer.header("retry-after"), Some("1"), "{answer:?}");
    let health = get(address, "/healthz");
    assert_eq!(health.status, 200, "alive while not ready");
    let refused = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.body["code"], "store_unavailable");
    let page = metrics_page(address);
    let labels = [("endpoint", "/api/token/"), ("code", "store_unavailable")];
    assert_eq!(
        sample(&page, "simplejwt_unavailable_total", &labels),
        1.0,
        "{page}"
    );
    assert!(
        sample(
            &page,
            "simplejwt_token_store_errors_total",
            &[("operation", "record")]
        ) >= 1.0,
        "{page}"
    );

    redis = Some(redis_server(&dir, port));
    wait_for("/readyz to answer 200 again", 30, || {
        get(address, "/readyz").status == 200
    });
    login(address);
    drop(redis);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn metrics_count_logins_refreshes_reuse_and_401s_by_reason() {
    let dir = temp_dir("metrics");
    create_user(&dir, "alice", "wonderland-42", None);
    let address = free_address();
    let _server = serve(&dir, address, &[]);
    let before = metrics_page(address);
    assert_eq!(sample(&before, "simplejwt_pairs_issued_total", &[]), 0.0);

    let pair = login(address);
    let refreshed = post(
        address,
        "/api/token/refresh/",
        &json!({"refresh": pair["refresh"]}),
    );
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let replayed = post(
        address,
        "/api/token/refresh/",
        &json!({"refresh": pair["refresh"]}),
    );
    assert_eq!(
        (replayed.status, replayed.body),
        (
            401,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        )
    );
    assert_eq!(get(address, "/api/me/").status, 401);
    let expired = send(
        address,
        "GET /api/me/ HTTP/1.1\nAuthorization: Bearer not-a-token\n",
        "",
    );
    assert_eq!(expired.status, 401);

    let page = metrics_page(address);
    assert_eq!(
        sample(&page, "simplejwt_pairs_issued_total", &[]),
        1.0,
        "{page}"
    );
    assert_eq!(
        sample(&page, "simplejwt_refreshes_total", &[("via", "endpoint")]),
        1.0,
        "{page}"
    );
    assert_eq!(
        sample(&page, "simplejwt_refresh_reuse_detected_total", &[]),
        1.0,
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            "simplejwt_families_revoked_total",
            &[("cause", "reuse")]
        ),
        1.0,
        "{page}"
    );
    for (endpoint, reason, code) in [
        (
            "/api/token/refresh/",
            "Token is blacklisted",
            "token_not_valid",
        ),
        (
            "/api/me/",
            "Authentication credentials were not provided.",
            "none",
        ),
        ("/api/me/", "Token is invalid", "token_not_valid"),
    ] {
        let labels = [("endpoint", endpoint), ("reason", reason), ("code", code)];
        assert_eq!(
            sample(&page, "simplejwt_unauthorized_total", &labels),
            1.0,
            "{labels:?} in {page}"
        );
    }
    assert_eq!(
        sample(
            &page,
            "simplejwt_http_responses_total",
            &[("endpoint", "/api/token/"), ("status", "200")]
        ),
        1.0,
        "{page}"
    );
    for operation in ["record", "rotate"] {
        let count = sample(
            &page,
            "simplejwt_token_store_seconds_count",
            &[("operation", operation)],
        );
        assert!(count >= 1.0, "{operation} timed: {page}");
    }
    assert!(
        page.contains("# TYPE simplejwt_token_store_seconds histogram"),
        "{page}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn metrics_count_automatic_refreshes() {
    let dir = temp_dir("metrics-auto");
    create_user(&dir, "alice", "wonderland-42", None);
    let clock = ClockFile::new(&dir);
    let address = free_address();
    let _server = serve(
        &dir,
        address,
        &["--auto-refresh", "--clock-file", &clock.arg()],
    );
    let pair = login(address);
    clock.advance(7201);
    let me = send(
        address,
        &format!(
            "GET /api/me/ HTTP/1.1\nAuthorization: Bearer {}\nX-Refresh-Token: {}\n",
            pair["access"].as_str().unwrap(),
            pair["refresh"].as_str().unwrap()
        ),
        "",
    );
    assert_eq!(me.status, 200, "{me:?}");
    assert!(me.header("x-access-token").is_some(), "{me:?}");
    let page = metrics_page(address);
    assert_eq!(
        sample(&page, "simplejwt_refreshes_total", &[("via", "auto")]),
        1.0,
        "{page}"
    );
    assert_eq!(
        sample(&page, "simplejwt_refreshes_total", &[("via", "endpoint")]),
        0.0,
        "{page}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A preflight from `origin` for a POST with a JSON body.
fn preflight(address: SocketAddr, origin: &str, path: &str) -> Reply {
    send(
        address,
        &format!(
            "OPTIONS {path} HTTP/1.1\nOrigin: {origin}\nAccess-Control-Request-Method: POST\nAccess-Control-Request-Headers: content-type\n"
        ),
        "",
    )
}

#[test]
fn cors_lets_the_listed_origins_in_and_exposes_the_refresh_headers() {
    let dir = temp_dir("cors");
    create_user(&dir, "alice", "wonderland-42", None);
    let allowed = "http://localhost:5173";
    let refused = "http://evil.example";

    let address = free_address();
    let server = serve(
        &dir,
        address,
        &[
            "--cors-origin",
            allowed,
            "--cors-origin",
            "https://app.example",
            "--auto-refresh",
        ],
    );
    let answer = preflight(address, allowed, "/api/token/");
    assert!(answer.status < 300, "{answer:?}");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(allowed),
        "{answer:?}"
    );
    let methods = answer
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{answer:?}");
    let headers = answer
        .header("access-control-allow-headers")
        .unwrap_or_default();
    for header in ["content-type", "authorization", "x-refresh-token"] {
        assert!(headers.contains(header), "{header} allowed: {answer:?}");
    }
    assert_eq!(
        answer.header("access-control-allow-credentials"),
        None,
        "header mode"
    );

    let answer = preflight(address, refused, "/api/token/");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        None,
        "{answer:?}"
    );

    // A real request: the listed origin may read the automatic-refresh headers.
    let body = json!({"username": "alice", "password": "wonderland-42"}).to_string();
    let answer = send(
        address,
        &format!("POST /api/token/ HTTP/1.1\nOrigin: {allowed}\nContent-Type: application/json\n"),
        &body,
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("access-control-allow-origin"), Some(allowed));
    let exposed = answer
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for header in ["x-access-token", "x-refresh-token"] {
        assert!(exposed.contains(header), "{header} exposed: {answer:?}");
    }
    drop(server);

    // Cookie mode: credentials allowed, and the listed origin passes the CSRF check.
    let address = free_address();
    let _server = serve(&dir, address, &["--cors-origin", allowed, "--cookies"]);
    let answer = preflight(address, allowed, "/api/token/");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(allowed),
        "{answer:?}"
    );
    assert_eq!(
        answer.header("access-control-allow-credentials"),
        Some("true"),
        "{answer:?}"
    );
    let cross_site = |origin: &str| {
        send(
            address,
            &format!(
                "POST /api/token/ HTTP/1.1\nOrigin: {origin}\nSec-Fetch-Site: cross-site\nContent-Type: application/json\n"
            ),
            &body,
        )
    };
    let answer = cross_site(allowed);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.header("set-cookie").is_some(), "{answer:?}");
    assert_eq!(cross_site(refused).status, 403, "CSRF refuses other sites");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_cors_origin_not_as_a_browser_sends_it_is_refused() {
    let dir = temp_dir("cors-bad");
    for origin in [
        "localhost:5173",
        "http://localhost:5173/",
        "HTTP://Localhost",
        "ftp://x",
    ] {
        let output = run(&dir, &["--cors-origin", origin], "");
        assert_eq!(output.status.code(), Some(2), "{origin}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--cors-origin"), "{origin}: {stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn purge_deletes_the_expired_records_and_keeps_the_live_ones() {
    let dir = temp_dir("purge");
    create_user(&dir, "alice", "wonderland-42", None);
    let clock = ClockFile::new(&dir);
    let clock_arg = clock.arg();
    let address = free_address();

    // Two logins eight days ago (refresh tokens live seven), one now.
    std::fs::write(&clock.path, (now() - 8 * 24 * 3600).to_string()).unwrap();
    let no_purge = ["--clock-file", &clock_arg, "--purge-every", "0"];
    let server = serve(&dir, address, &no_purge);
    login(address);
    login(address);
    drop(server);
    std::fs::write(&clock.path, now().to_string()).unwrap();
    let server = serve(&dir, address, &no_purge);
    let live = login(address);
    let logout = post(
        address,
        "/api/token/blacklist/",
        &json!({"refresh": live["refresh"]}),
    );
    assert_eq!(logout.status, 200, "{logout:?}");
    drop(server);

    let purge = |expected: &str| {
        let output = run(&dir, &["purge"], "");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected);
    };
    purge("purged 2 expired token records");
    purge("purged 0 expired token records");

    // The live, logged-out token's record is kept: it is still refused.
    let _server = serve(&dir, address, &["--purge-every", "0"]);
    let refused = post(
        address,
        "/api/token/refresh/",
        &json!({"refresh": live["refresh"]}),
    );
    assert_eq!(
        (refused.status, refused.body),
        (
            401,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        )
    );
    let memory = run(&dir, &["purge", "--token-store", "memory:"], "");
    assert_eq!(memory.status.code(), Some(1));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_server_purges_expired_records_in_the_background() {
    let dir = temp_dir("purge-task");
    create_user(&dir, "alice", "wonderland-42", None);
    let clock = ClockFile::new(&dir);
    let clock_arg = clock.arg();
    let address = free_address();
    std::fs::write(&clock.path, (now() - 8 * 24 * 3600).to_string()).unwrap();
    let server = serve(
        &dir,
        address,
        &["--clock-file", &clock_arg, "--purge-every", "0"],
    );
    login(address);
    login(address);
    drop(server);

    std::fs::write(&clock.path, now().to_string()).unwrap();
    let server = serve(
        &dir,
        address,
        &["--clock-file", &clock_arg, "--purge-every", "0"],
    );
    login(address);
    let page = metrics_page(address);
    assert_eq!(
        sample(&page, "simplejwt_token_records_purged_total", &[]),
        0.0,
        "off: {page}"
    );
    drop(server);

    // Default: once at start, then every hour.
    let server = serve(&dir, address, &["--clock-file", &clock_arg]);
    wait_for("the background purge", 10, || {
        sample(
            &metrics_page(address),
            "simplejwt_token_records_purged_total",
            &[],
        ) == 2.0
    });
    drop(server);
    let output = run(&dir, &["purge"], "");
    assert_eq!(succeeded(&output), "purged 0 expired token records");
    std::fs::remove_dir_all(dir).unwrap();
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn succeeded(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn failed_with(output: &std::process::Output, needed: &str) {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(needed), "{needed:?} in {stderr}");
}

/// The payload of a token, unverified.
fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Django's hash of "django-pass-7" (pbkdf2_sha256, 1000 iterations, salt "importsalt").
const DJANGO_HASH: &str =
    "pbkdf2_sha256$1000$importsalt$IyYNypO7e3lvkrpCopyHLXnrSNSXHxabE7Lerog0S1M=";

/// A hash as Django's Argon2PasswordHasher stores it: `argon2` and the PHC string.
fn django_argon2(password: &str) -> String {
    let hasher = tower_simplejwt::credentials::PasswordHasher::argon2id(1024, 1, 1).unwrap();
    format!("argon2{}", hasher.hash(password).unwrap())
}

#[test]
fn import_keeps_django_ids_and_pbkdf2_hashes() {
    let dir = temp_dir("import");
    let dump = json!([
        {"model": "auth.user", "pk": 5, "fields": {
            "password": DJANGO_HASH, "last_login": null, "is_superuser": false,
            "username": "alice", "first_name": "", "last_name": "", "email": "alice@example.com",
            "is_staff": false, "is_active": true, "date_joined": "2024-01-01T00:00:00Z",
            "groups": [], "user_permissions": []}},
        {"model": "auth.user", "pk": 9, "fields": {
            "password": DJANGO_HASH, "username": "bob", "is_active": false}},
        {"model": "auth.user", "pk": 12, "fields": {
            "password": "!Xq3unusable", "username": "carol", "is_active": true}},
        {"model": "auth.user", "pk": 14, "fields": {
            "password": django_argon2("django-argon-9"), "username": "erin", "is_active": true}},
        {"model": "auth.user", "pk": 15, "fields": {
            "password": "bcrypt_sha256$$2b$12$abc", "username": "frank", "is_active": true}}
    ]);
    std::fs::write(dir.join("users.json"), dump.to_string()).unwrap();
    let output = run(&dir, &["import", "users.json"], "");
    assert_eq!(succeeded(&output), "imported 5 users");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for warned in [
        "\"carol\" has no usable password",
        "\"frank\"'s password hash (bcrypt_sha256)",
    ] {
        assert!(stderr.contains(warned), "{warned} in {stderr}");
    }
    for usable in ["alice", "erin"] {
        assert!(!stderr.contains(usable), "{stderr}");
    }

    let again = run(&dir, &["import", "users.json"], "");
    failed_with(&again, "a user named \"alice\" already exists");
    failed_with(&again, "nothing imported");
    std::fs::write(dir.join("bad.json"), r#"{"model": "auth.user"}"#).unwrap();
    failed_with(&run(&dir, &["import", "bad.json"], ""), "dumpdata");
    let from_stdin = run(&dir, &["import", "-"], &json!([]).to_string());
    assert_eq!(succeeded(&from_stdin), "imported 0 users");
    let created = run(&dir, &["createuser", "dave", "--password", "x-42"], "");
    assert_eq!(succeeded(&created), "created user \"dave\" with id 16");

    let address = free_address();
    let _server = serve(&dir, address, &[]);
    let pair = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "django-pass-7"}),
    );
    assert_eq!(
        pair.status, 200,
        "the Django hash logs in as it is: {pair:?}"
    );
    assert_eq!(
        claims(pair.body["access"].as_str().unwrap())["user_id"],
        "5"
    );
    let erin = post(
        address,
        "/api/token/",
        &json!({"username": "erin", "password": "django-argon-9"}),
    );
    assert_eq!(erin.status, 200, "Django's argon2 hash logs in: {erin:?}");
    assert_eq!(
        claims(erin.body["access"].as_str().unwrap())["user_id"],
        "14"
    );
    for (name, password) in [("bob", "django-pass-7"), ("carol", ""), ("frank", "x")] {
        let refused = post(
            address,
            "/api/token/",
            &json!({"username": name, "password": password}),
        );
        assert_ne!(refused.status, 200, "{name}: {refused:?}");
    }

    // A refresh token Django minted for pk 5 (same key) names the same user here.
    let now = now();
    let django_token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(tower_simplejwt::Algorithm::HS256),
        &json!({"token_type": "refresh", "exp": now + 3600, "iat": now,
                "jti": format!("{:032x}", rand::random::<u128>()), "user_id": "5"}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let refreshed = post(
        address,
        "/api/token/refresh/",
        &json!({"refresh": django_token}),
    );
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let me = send(
        address,
        &format!(
            "GET /api/me/ HTTP/1.1\nAuthorization: Bearer {}\n",
            refreshed.json_access()
        ),
        "",
    );
    assert_eq!(me.json(), json!({"username": "alice"}));
    std::fs::remove_dir_all(dir).unwrap();
}

trait AccessToken {
    fn json_access(&self) -> String;
}

impl AccessToken for Answer {
    fn json_access(&self) -> String {
        self.body["access"].as_str().unwrap().to_owned()
    }
}

#[test]
fn changepassword_sets_the_password_and_logs_the_sessions_out() {
    let dir = temp_dir("changepassword");
    create_user(&dir, "alice", "wonderland-42", None);
    let address = free_address();
    let _server = serve(&dir, address, &[]);
    let pair = login(address);

    let changed = run(
        &dir,
        &["changepassword", "alice", "--password", "looking-glass-7"],
        "",
    );
    assert_eq!(
        succeeded(&changed),
        "changed the password of \"alice\"; 1 session logged out"
    );
    let old = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(old.status, 401, "{old:?}");
    let new = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "looking-glass-7"}),
    );
    assert_eq!(new.status, 200, "{new:?}");
    let refresh = post(
        address,
        "/api/token/refresh/",
        &json!({"refresh": pair["refresh"]}),
    );
    assert_eq!(
        (refresh.status, refresh.body),
        (
            401,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        ),
        "the session before the change is over"
    );

    let from_stdin = run(&dir, &["changepassword", "alice"], "third-time-42\n");
    assert_eq!(
        succeeded(&from_stdin),
        "changed the password of \"alice\"; 1 session logged out"
    );
    let third = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "third-time-42"}),
    );
    assert_eq!(third.status, 200, "{third:?}");
    failed_with(
        &run(&dir, &["changepassword", "nobody", "--password", "x"], ""),
        "no user named \"nobody\"",
    );
    failed_with(
        &run(&dir, &["changepassword", "alice"], "\n"),
        "may not be empty",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn deactivate_refuses_the_user_and_its_tokens() {
    let dir = temp_dir("deactivate");
    create_user(&dir, "bob", "builder-42", None);
    let address = free_address();
    let _server = serve(&dir, address, &[]);
    let pair = post(
        address,
        "/api/token/",
        &json!({"username": "bob", "password": "builder-42"}),
    );
    assert_eq!(pair.status, 200, "{pair:?}");

    let deactivated = run(&dir, &["deactivate", "bob"], "");
    assert_eq!(
        succeeded(&deactivated),
        "deactivated \"bob\"; 1 session logged out"
    );
    let me = send(
        address,
        &format!(
            "GET /api/me/ HTTP/1.1\nAuthorization: Bearer {}\n",
            pair.json_access()
        ),
        "",
    );
    assert_eq!(
        (me.status, me.json()),
        (
            401,
            json!({"detail": "User is inactive", "code": "user_inactive"})
        )
    );
    let login = post(
        address,
        "/api/token/",
        &json!({"username": "bob", "password": "builder-42"}),
    );
    assert_eq!(
        (login.status, login.body),
        (
            401,
            json!({"detail": "No active account found with the given credentials"})
        )
    );
    failed_with(
        &run(&dir, &["deactivate", "nobody"], ""),
        "no user named \"nobody\"",
    );
    std::fs::remove_dir_all(dir).unwrap();
}
