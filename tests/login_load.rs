//! A flood of logins against the example server binary: its memory stays
//! within the login limit's budget and it keeps answering.

mod process;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use process::*;
use serde_json::{json, Value};

/// Concurrent logins in the flood.
const LOGINS: usize = 600;

/// The default login limit's memory budget (`LoginLimit::default()`), which
/// the example server uses.
const BUDGET_MIB: u64 = 256;

/// What the server may hold besides the password checks: its runtime, 600
/// connections and their requests, the SQLite pool, the allocator's slack.
const OVERHEAD_MIB: u64 = 150;

/// The server's peak resident memory so far (`VmHWM`), in MiB.
fn peak_resident_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("the server's /proc status (this test needs Linux)");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("a VmHWM line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|value| value.parse().ok())
        .expect("VmHWM in kB");
    kib / 1024
}

/// One login over a fresh connection, all of them sent at once: the status
/// and JSON body, or why there is none. The read timeout is generous
/// because queued logins wait their turn on a shared, busy machine.
fn login(
    address: SocketAddr,
    username: &str,
    password: &str,
    start: &Barrier,
) -> Result<(u16, Value, String), String> {
    let body = json!({"username": username, "password": password}).to_string();
    let request = format!(
        "POST /api/token/ HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(address).map_err(|error| format!("connect: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(300)))
        .map_err(|error| error.to_string())?;
    start.wait();
    stream
        .write_all(request.as_bytes())
        .map_err(|error| format!("write: {error}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|error| format!("read: {error}"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {response:?}"))?;
    let status = head
        .get(9..12)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let body = serde_json::from_str(body).map_err(|error| format!("body {body:?}: {error}"))?;
    Ok((status, body, head.to_ascii_lowercase()))
}

#[test]
fn six_hundred_concurrent_logins_keep_memory_within_the_budget() {
    let dir = temp_dir("login-load");
    create_user(&dir, "alice", "wonderland-42", None);
    let address = free_address();
    let server = serve(&dir, address, &[]);
    let pid = server.0.id();
    let before = peak_resident_mib(pid);

    let start = Arc::new(Barrier::new(LOGINS));
    let clients: Vec<_> = (0..LOGINS)
        .map(|_| {
            let start = start.clone();
            let (username, password) = (
                format!("user-{:016x}", rand::random::<u64>()),
                format!("{:032x}", rand::random::<u128>()),
            );
            std::thread::spawn(move || login(address, &username, &password, &start))
        })
        .collect();
    let answers: Vec<_> = clients
        .into_iter()
        .map(|client| client.join().expect("a client thread"))
        .collect();

    let refused = json!({"detail": "No active account found with the given credentials"});
    let busy = json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"});
    let (mut unauthorized, mut unavailable) = (0, 0);
    for answer in &answers {
        let (status, body, head) = answer.as_ref().expect("every login is answered");
        match status {
            401 => {
                assert_eq!(body, &refused);
                unauthorized += 1;
            }
            503 => {
                assert_eq!(body, &busy);
                assert!(head.contains("\r\nretry-after: 1"), "{head}");
                unavailable += 1;
            }
            other => panic!("a login answered {other}: {body}"),
        }
        assert!(head.contains("\r\ncache-control: no-store"), "{head}");
    }
    let peak = peak_resident_mib(pid);
    println!(
        "{LOGINS} logins: {unauthorized} × 401, {unavailable} × 503; peak resident memory {before} MiB before, {peak} MiB after"
    );
    assert!(unauthorized > 0, "some password checks ran");
    assert!(
        peak < BUDGET_MIB + OVERHEAD_MIB,
        "peak resident memory {peak} MiB, over the {BUDGET_MIB} MiB budget + {OVERHEAD_MIB} MiB"
    );

    // The server still answers, and a real user still logs in.
    let after = post(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(after.status, 200, "{after:?}");
    assert!(after.body["access"].is_string());
}
