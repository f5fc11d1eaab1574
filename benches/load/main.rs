//! Requests per second of `GET /api/me/` under a real HTTP load generator
//! (wrk, Debian package `wrk`), in one run: behind `AuthLayer`, against
//! the same handler unprotected and verifying with plain
//! `jsonwebtoken::decode`.
//!
//! ```text
//! cargo bench --bench load [-- SECONDS CONNECTIONS ROUNDS]
//! benches/load-example-server.sh [SECONDS CONNECTIONS ROUNDS]
//! ```
//!
//! The first serves axum routes built in this process (users in memory);
//! the second builds and starts the example server's binary (users in
//! SQLite) and loads its `GET /api/me/` and the twins it serves with
//! `--load-test-routes` (it runs this bench with `--example-server
//! [PATH]`). Either way the servers are pinned to the first CPU and wrk,
//! with one thread, to the second (with `taskset`, when it is there), so
//! every variant gets the same core. Rounds interleave the variants, each
//! round starting with the next one; each round's ratio compares
//! measurements taken seconds apart, and their median is reported beside
//! the ratio of the means, so a slow spell of a shared machine moves
//! neither much. The server's user and kernel CPU time per request are
//! reported too: they do not depend on how busy wrk is.

mod example_server;
mod in_process;
mod rounds;

use std::path::PathBuf;

use rounds::{pin_to_first_cpu, Plan};

fn main() {
    let mut numbers = Vec::new();
    let mut example_server: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--example-server" => {
                let path = match args.peek() {
                    Some(next) if !next.starts_with('-') && next.parse::<u64>().is_err() => {
                        args.next().map(PathBuf::from)
                    }
                    _ => None,
                };
                example_server = Some(path.unwrap_or_else(example_server::default_binary));
            }
            // cargo bench passes --bench; numbers are the plan.
            _ => numbers.extend(arg.parse::<u64>().ok()),
        }
    }
    let plan = Plan {
        seconds: numbers.first().copied().unwrap_or(2),
        connections: numbers.get(1).copied().unwrap_or(32),
        rounds: numbers.get(2).copied().unwrap_or(15),
    };
    // What keeps the servers serving until the end: the example servers'
    // processes, or the runtime of the in-process ones.
    let (_servers, targets): (Box<dyn std::any::Any>, _) = match &example_server {
        Some(binary) => {
            let (servers, targets) = example_server::targets(binary);
            (Box::new(servers), targets)
        }
        None => {
            let (runtime, targets) = in_process::targets();
            (Box::new(runtime), targets)
        }
    };
    let mut pids: Vec<u32> = targets.iter().map(|target| target.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let pinned = pids.into_iter().all(pin_to_first_cpu);
    match (pinned, &example_server) {
        (true, Some(binary)) => println!("{} pinned to CPU 0, wrk to CPU 1", binary.display()),
        (true, None) => println!("servers in this process pinned to CPU 0, wrk to CPU 1"),
        (false, _) => println!("servers and wrk not pinned (no taskset)"),
    }
    rounds::run(&targets, &plan, pinned);
}
