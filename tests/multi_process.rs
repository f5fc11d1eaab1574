//! Two example-server processes sharing one token store (PostgreSQL, Redis,
//! the local Redis Cluster with `redis-cluster`, a SQLite file): 100 concurrent
//! refreshes of one token split between them get one successor, and a
//! replay after the grace window revokes the family on both; and a thief
//! rotating a stolen token in a tight loop on one process while the victim
//! replays it on the other is stopped as soon as the replay is answered.
#![cfg(all(feature = "postgres", feature = "redis"))]

mod process;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use serde_json::json;

use process::*;

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const REDIS: &str = "redis://127.0.0.1:6379/";
/// The local Redis Cluster of `.ci/services.sh` (feature `redis-cluster`).
#[cfg(feature = "redis-cluster")]
const REDIS_CLUSTER: &str = "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002";

fn blacklisted() -> serde_json::Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

fn two_servers_sharing(token_store: &str) {
    let dir = temp_dir("multi-process");
    let users = format!("sqlite://{}", dir.join("users.sqlite3").display());
    create_user(&dir, "alice", "wonderland-42", Some(&users));
    let clock = ClockFile::new(&dir);
    let clock_arg = clock.arg();
    let args = [
        "--database",
        &users,
        "--token-store",
        token_store,
        "--reuse-grace",
        "10",
        "--clock-file",
        &clock_arg,
    ];
    let (first, second) = (free_address(), free_address());
    let _servers = (serve(&dir, first, &args), serve(&dir, second, &args));

    let login = post(
        first,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(login.status, 200, "{login:?}");
    let refresh = login.body["refresh"].as_str().unwrap().to_owned();

    let start = Arc::new(Barrier::new(100));
    let threads: Vec<_> = (0..100)
        .map(|i| {
            let (start, refresh) = (start.clone(), refresh.clone());
            let server: SocketAddr = if i % 2 == 0 { first } else { second };
            std::thread::spawn(move || {
                start.wait();
                post(server, "/api/token/refresh/", &json!({"refresh": refresh}))
            })
        })
        .collect();
    let answers: Vec<Answer> = threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let successors: std::collections::HashSet<_> = answers
        .iter()
        .map(|answer| {
            assert_eq!(
                answer.status, 200,
                "every concurrent refresh within the window succeeds: {answer:?}"
            );
            answer.body["refresh"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        successors.len(),
        1,
        "one successor for 100 concurrent refreshes on two processes"
    );
    let successor = successors.into_iter().next().unwrap();

    clock.advance(11);
    let replay = post(second, "/api/token/refresh/", &json!({"refresh": refresh}));
    assert_eq!(
        (replay.status, replay.body),
        (401, blacklisted()),
        "a replay after the window is reuse"
    );
    for server in [first, second] {
        let revoked = post(
            server,
            "/api/token/refresh/",
            &json!({"refresh": successor}),
        );
        assert_eq!(
            (revoked.status, revoked.body),
            (401, blacklisted()),
            "the family is revoked on both processes"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn two_processes_sharing_postgres() {
    two_servers_sharing(POSTGRES);
}

#[test]
fn two_processes_sharing_redis() {
    two_servers_sharing(REDIS);
}

#[cfg(feature = "redis-cluster")]
#[test]
fn two_processes_sharing_a_redis_cluster() {
    two_servers_sharing(REDIS_CLUSTER);
}

/// The thief-and-victim race of issue 18, `rounds` times on two processes
/// sharing `token_store` with `--reuse-grace 0`: the thief rotates a stolen
/// refresh token in a tight loop on the first, the victim replays the
/// original on the second. After the victim's replay is answered (401
/// blacklisted), no rotation sent by the thief succeeds, and the thief's
/// latest token is refused on both processes, in every round.
fn thief_and_victim(token_store: &str, rounds: usize) {
    let dir = temp_dir("thief-and-victim");
    let users = format!("sqlite://{}", dir.join("users.sqlite3").display());
    create_user(&dir, "alice", "wonderland-42", Some(&users));
    let args = [
        "--database",
        &users,
        "--token-store",
        token_store,
        "--reuse-grace",
        "0",
    ];
    let (thief_server, victim_server) = (free_address(), free_address());
    let _servers = (
        serve(&dir, thief_server, &args),
        serve(&dir, victim_server, &args),
    );
    for round in 0..rounds {
        let login = post(
            victim_server,
            "/api/token/",
            &json!({"username": "alice", "password": "wonderland-42"}),
        );
        assert_eq!(login.status, 200, "{login:?}");
        let stolen = login.body["refresh"].as_str().unwrap().to_owned();
        let answered = Arc::new(AtomicBool::new(false));
        let rotations = Arc::new(AtomicUsize::new(0));
        let thief = {
            let (answered, rotations, mut latest) =
                (answered.clone(), rotations.clone(), stolen.clone());
            std::thread::spawn(move || {
                let mut after_answer = 0;
                for _ in 0..20_000 {
                    let sent_after_answer = answered.load(Ordering::SeqCst);
                    let answer = post(
                        thief_server,
                        "/api/token/refresh/",
                        &json!({"refresh": latest}),
                    );
                    if answer.status != 200 {
                        assert_eq!(
                            (answer.status, &answer.body),
                            (401, &blacklisted()),
                            "the thief is stopped as blacklisted"
                        );
                        break;
                    }
                    if sent_after_answer {
                        after_answer += 1;
                    }
                    latest = answer.body["refresh"].as_str().unwrap().to_owned();
                    rotations.fetch_add(1, Ordering::SeqCst);
                }
                (latest, after_answer)
            })
        };
        while rotations.load(Ordering::SeqCst) < 5 && !thief.is_finished() {
            std::thread::yield_now();
        }
        let replay = post(
            victim_server,
            "/api/token/refresh/",
            &json!({"refresh": stolen}),
        );
        answered.store(true, Ordering::SeqCst);
        assert_eq!(
            (replay.status, replay.body),
            (401, blacklisted()),
            "round {round}: the victim's replay is detected"
        );
        let (latest, after_answer) = thief.join().unwrap();
        assert_eq!(
            after_answer, 0,
            "round {round}: the thief kept rotating after the replay was answered"
        );
        for server in [thief_server, victim_server] {
            let refused = post(server, "/api/token/refresh/", &json!({"refresh": latest}));
            assert_eq!(
                (refused.status, refused.body),
                (401, blacklisted()),
                "round {round}: the thief's latest token is refused"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn thief_and_victim_on_postgres() {
    thief_and_victim(POSTGRES, 15);
}

#[test]
fn thief_and_victim_on_redis() {
    thief_and_victim(REDIS, 15);
}

#[cfg(feature = "redis-cluster")]
#[test]
fn thief_and_victim_on_a_redis_cluster() {
    thief_and_victim(REDIS_CLUSTER, 15);
}

#[test]
fn thief_and_victim_on_a_shared_sqlite_file() {
    let dir = temp_dir("thief-and-victim-sqlite");
    let tokens = format!("sqlite://{}", dir.join("tokens.sqlite3").display());
    thief_and_victim(&tokens, 15);
    std::fs::remove_dir_all(dir).unwrap();
}
