//! The token store goes away mid-load: refreshes answer 503 while it is
//! down and succeed again after it returns, with no token lost or rotated twice.
#![cfg(all(feature = "postgres", feature = "redis"))]

mod process;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use process::*;

const CLIENTS: usize = 4;

/// What the load's clients saw.
#[derive(Default)]
struct Tally {
    successes: Vec<AtomicUsize>,
    unavailable: Vec<AtomicUsize>,
    failures: Mutex<Vec<String>>,
    /// Presented refresh token → the successor handed out for it.
    successors: Mutex<HashMap<String, String>>,
    first_tokens: Mutex<Vec<String>>,
}

fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `CLIENTS` refresh loops against `server` while `outage` takes the store
/// away and brings it back; checks every answer.
fn refresh_through_an_outage(
    server: SocketAddr,
    clock: &ClockFile,
    outage: impl FnOnce(&dyn Fn(&str)),
) {
    let tally = Arc::new(Tally {
        successes: (0..CLIENTS).map(|_| AtomicUsize::new(0)).collect(),
        unavailable: (0..CLIENTS).map(|_| AtomicUsize::new(0)).collect(),
        ..Tally::default()
    });
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (tally, stop) = (tally.clone(), stop.clone());
            std::thread::spawn(move || {
                let login = post(server, "/api/token/", &json!({"username": "alice", "password": "wonderland-42"}));
                assert_eq!(login.status, 200, "{login:?}");
                let mut current = login.body["refresh"].as_str().unwrap().to_owned();
                tally.first_tokens.lock().unwrap().push(current.clone());
                while !stop.load(Ordering::SeqCst) {
                    let answer = post(server, "/api/token/refresh/", &json!({"refresh": current}));
                    match answer.status {
                        200 => {
                            let successor = answer.body["refresh"].as_str().unwrap().to_owned();
                            let mut successors = tally.successors.lock().unwrap();
                            if let Some(earlier) = successors.insert(current.clone(), successor.clone()) {
                                if earlier != successor {
                                    tally.failures.lock().unwrap().push("a token was rotated twice".into());
                                }
                            }
                            current = successor;
                            tally.successes[client].fetch_add(1, Ordering::SeqCst);
                        }
                        503 => {
                            let expected = json!({"detail": "Token store unavailable, try again later.", "code": "store_unavailable"});
                            if answer.body != expected || answer.header("retry-after") != Some("1") {
                                tally.failures.lock().unwrap().push(format!("a 503 not in the contract's shape: {answer:?}"));
                            }
                            tally.unavailable[client].fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        _ => tally.failures.lock().unwrap().push(format!("unexpected answer: {answer:?}")),
                    }
                }
            })
        })
        .collect();

    let count = |counters: &Vec<AtomicUsize>| {
        counters
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .collect::<Vec<_>>()
    };
    wait_for("every client to refresh while the store is up", 60, || {
        count(&tally.successes).iter().all(|&n| n >= 3)
    });
    outage(&|phase| match phase {
        "down" => wait_for("every client to see a 503", 60, || {
            count(&tally.unavailable).iter().all(|&n| n >= 1)
        }),
        _ => {
            let before = count(&tally.successes);
            wait_for(
                "every client to refresh again after the store returned",
                60,
                || {
                    count(&tally.successes)
                        .iter()
                        .zip(&before)
                        .all(|(now, then)| now >= &(then + 3))
                },
            );
        }
    });
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let failures = tally.failures.lock().unwrap();
    assert!(failures.is_empty(), "{failures:?}");

    // Nothing was lost: past the grace window, every first token is known as rotated.
    clock.advance(60);
    for first in tally.first_tokens.lock().unwrap().iter() {
        let replay = post(server, "/api/token/refresh/", &json!({"refresh": first}));
        assert_eq!(
            (replay.status, replay.body),
            (
                401,
                json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
            ),
            "a token rotated before the outage is still recorded after it"
        );
    }
}

fn start_server(
    dir: &std::path::Path,
    token_store: &str,
    clock: &ClockFile,
) -> (SocketAddr, Running) {
    let users = format!("sqlite://{}", dir.join("users.sqlite3").display());
    create_user(dir, "alice", "wonderland-42", Some(&users));
    let address = free_address();
    let clock_arg = clock.arg();
    // A grace window: a rotation whose reply is lost in the outage is retried, not taken for reuse.
    let args = [
        "--database",
        &users,
        "--token-store",
        token_store,
        "--reuse-grace",
        "30",
        "--clock-file",
        &clock_arg,
    ];
    let server = serve(dir, address, &args);
    (address, server)
}

/// A Redis server of the test's own, persisting every write (AOF, fsync always).
fn redis_server(dir: &std::path::Path, port: u16) -> Running {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
        ])
        .args([
            "--appendfsync",
            "always",
            "--dir",
            &dir.display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (Debian package redis-server)");
    let running = Running(child);
    wait_until_listening(SocketAddr::from(([127, 0, 0, 1], port)), "redis-server");
    running
}

#[test]
fn redis_stops_mid_load() {
    let dir = temp_dir("redis-outage");
    let port = free_address().port();
    let mut redis = Some(redis_server(&dir, port));
    let clock = ClockFile::new(&dir);
    let (server, _server) = start_server(&dir, &format!("redis://127.0.0.1:{port}/"), &clock);
    refresh_through_an_outage(server, &clock, |wait| {
        drop(redis.take()); // SIGKILL: acknowledged writes are on disk already
        wait("down");
        redis = Some(redis_server(&dir, port));
        wait("up");
    });
    std::fs::remove_dir_all(dir).unwrap();
}

/// A TCP proxy to PostgreSQL that the test can cut: while down, it closes
/// every connection and refuses new ones, as a stopped server would.
struct CuttableProxy {
    address: SocketAddr,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl CuttableProxy {
    fn start(upstream: SocketAddr) -> CuttableProxy {
        let address = free_address();
        let (down, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (is_down, stopping) = (down.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut listener: Option<TcpListener> = None;
            let mut open: Vec<TcpStream> = Vec::new();
            while !stopping.load(Ordering::SeqCst) {
                if is_down.load(Ordering::SeqCst) {
                    listener = None;
                    for stream in open.drain(..) {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let Some(bound) = &listener else {
                    listener = TcpListener::bind(address).ok();
                    if let Some(bound) = &listener {
                        bound.set_nonblocking(true).unwrap();
                    }
                    continue;
                };
                match bound.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        open.push(client.try_clone().unwrap());
                        open.push(server.try_clone().unwrap());
                        pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                        pipe(server, client);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        wait_until_listening(address, "the proxy");
        CuttableProxy {
            address,
            down,
            stop,
        }
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read) = from.read(&mut buffer) {
            if read == 0 || to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[test]
fn postgres_stops_mid_load() {
    let dir = temp_dir("postgres-outage");
    let proxy = CuttableProxy::start(SocketAddr::from(([127, 0, 0, 1], 5432)));
    let clock = ClockFile::new(&dir);
    let url = format!("postgres://postgres@{}/test", proxy.address);
    let (server, _server) = start_server(&dir, &url, &clock);
    refresh_through_an_outage(server, &clock, |wait| {
        proxy.down.store(true, Ordering::SeqCst);
        wait("down");
        proxy.down.store(false, Ordering::SeqCst);
        wait("up");
    });
    std::fs::remove_dir_all(dir).unwrap();
}
