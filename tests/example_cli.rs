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

/// The kid in a token's header.
fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_key_files() {
    let dir = temp_dir("sighup");
    let keygen = |algorithm: &str| {
        let output = run(&dir, &["keygen", "--algorithm", algorithm], "");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    std::fs::write(dir.join("signing.pem"), keygen("ES256")).unwrap();
    assert!(run(
        &dir,
        &["createuser", "alice", "--password", "wonderland-42"],
        ""
    )
    .status
    .success());
    let address = free_address();
    let server = serve(
        &dir,
        address,
        &["--algorithm", "ES256", "--signing-key", "signing.pem"],
    );
    let login = || {
        let answer = post(
            address,
            "/api/token/",
            &json!({"username": "alice", "password": "wonderland-42"}),
        );
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body["access"].as_str().unwrap().to_owned()
    };
    let first_kid = kid_of(&login());

    // A new key file, then SIGHUP: new tokens carry the new key's kid, no restart.
    std::fs::write(dir.join("signing.pem"), keygen("ES256")).unwrap();
    let pid = server.0.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let mut reloaded = false;
    for _ in 0..200 {
        if kid_of(&login()) != first_kid {
            reloaded = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(reloaded, "the new key signs after SIGHUP");
    let jwks = get(address, "/.well-known/jwks.json");
    assert_eq!(jwks.status, 200);
    let kids: Vec<_> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].clone())
        .collect();
    assert_eq!(kids.len(), 1, "only the new key is published: {kids:?}");
    assert_ne!(
        kids[0],
        first_kid.as_str(),
        "the old key is no longer published"
    );
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_short_secret_stops_the_server_and_keygen_makes_a_long_enough_one() {
    let dir = temp_dir("secret");
    let short = std::process::Command::new(server_binary())
        .args(["--listen", &free_address().to_string()])
        .current_dir(&dir)
        .env("TOWER_JWT_SECRET", "change-me")
        .output()
        .unwrap();
    assert_eq!(
        short.status.code(),
        Some(1),
        "a startup error, not a server"
    );
    let stderr = String::from_utf8_lossy(&short.stderr);
    for needed in [
        "TOWER_JWT_SECRET is 9 bytes",
        "at least 32 bytes",
        "server keygen --algorithm HS256",
    ] {
        assert!(stderr.contains(needed), "{needed:?} in {stderr}");
    }

    for (algorithm, bytes) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        let first = run(&dir, &["keygen", "--algorithm", algorithm], "");
        let second = run(&dir, &["keygen", "--algorithm", algorithm], "");
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let secret = String::from_utf8(first.stdout).unwrap();
        let secret = secret.strip_suffix('\n').expect("one line");
        assert_eq!(
            secret.len(),
            bytes * 2,
            "{algorithm}: {bytes} random bytes in hex"
        );
        assert!(
            secret.bytes().all(|byte| byte.is_ascii_hexdigit()),
            "{secret}"
        );
        assert_ne!(
            secret.as_bytes(),
            second.stdout.trim_ascii_end(),
            "random each time"
        );
    }

    // The HS256 secret keygen printed starts the server.
    let secret = run(&dir, &["keygen", "--algorithm", "HS256"], "").stdout;
    let secret = String::from_utf8(secret).unwrap();
    let address = free_address();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let child = std::process::Command::new(server_binary())
        .args(["--listen", &address.to_string()])
        .current_dir(&dir)
        .env("TOWER_JWT_SECRET", secret.trim_end())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let _server = Running(child);
    wait_until_listening(address, "the server with keygen's secret");
    let (status, _) = post_json(address, "/api/token/verify/", &json!({"token": "x"}));
    assert_eq!(status, 401);
    drop(_server);
    std::fs::remove_dir_all(dir).unwrap();
}
