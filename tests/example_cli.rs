//! The example server as a user runs it: its binary, its command line, its SQLite file.

mod process;

use serde_json::json;

use process::*;

fn post_json(
    address: std::net::SocketAddr,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let answer = process::post(address, path, body);
    (answer.status, answer.body)
}

#[test]
fn createuser_serve_and_restart() {
    let dir = temp_dir("cli");

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
        let _server = serve(&dir, address, &[]);
        let (status, pair) = post_json(
            address,
            "/api/token/",
            &json!({"username": "alice", "password": "wonderland-42"}),
        );
        assert_eq!(status, 200, "{pair}");
        let (status, body) = post_json(
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
            post_json(
                address,
                "/api/token/blacklist/",
                &json!({"refresh": refresh})
            ),
            (200, json!({}))
        );
        refresh
    };

    let _restarted = serve(&dir, address, &[]);
    let (status, _) = post_json(
        address,
        "/api/token/",
        &json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(status, 200, "users survive a restart");
    assert_eq!(
        post_json(address, "/api/token/refresh/", &json!({"refresh": refresh})),
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
    let dir = temp_dir("cli");
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
