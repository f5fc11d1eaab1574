//! Two example-server processes sharing one token store: 100 concurrent
//! refreshes of one token split between them get one successor, and a
//! replay after the grace window revokes the family on both.
#![cfg(all(feature = "postgres", feature = "redis"))]

mod process;

use std::net::SocketAddr;
use std::sync::{Arc, Barrier};

use serde_json::json;

use process::*;

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
const REDIS: &str = "redis://127.0.0.1:6379/";

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
