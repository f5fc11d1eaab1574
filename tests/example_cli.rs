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
            String::from_utf8_lossy(&output.stderr).contains("Usage:"),
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

/// Starts the binary in `dir` with `args` (no `--listen` added) and `env`,
/// its standard error in `dir/name.log`; waits until `address` listens.
fn spawn_logged(
    dir: &std::path::Path,
    address: std::net::SocketAddr,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Running, std::path::PathBuf) {
    let log_path = dir.join(format!("{name}.log"));
    let child = std::process::Command::new(server_binary())
        .args(args)
        .current_dir(dir)
        .env_remove("TOWER_JWT_SECRET")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let running = Running(child);
    wait_until_listening(address, name);
    (running, log_path)
}

fn no_ansi(what: &str, text: &[u8]) {
    assert!(
        !text.contains(&0x1b),
        "{what}: no colour codes when the output is not a terminal:\n{}",
        String::from_utf8_lossy(text)
    );
}

#[test]
fn help_is_on_stdout_describes_every_flag_and_hides_the_hooks() {
    let dir = temp_dir("help");
    let help = run(&dir, &["--help"], "");
    assert_eq!(help.status.code(), Some(0), "{help:?}");
    assert!(help.stderr.is_empty(), "{help:?}");
    no_ansi("--help", &help.stdout);
    let text = String::from_utf8(help.stdout).unwrap();
    for flag in [
        "--listen <ADDR>",
        "--database <URL>",
        "--secret <SECRET>",
        "TOWER_JWT_SECRET",
        "--access-lifetime <SECONDS>",
        "--refresh-lifetime <SECONDS>",
        "--token-store <URL>",
        "--reuse-grace <SECONDS>",
        "--reuse-policy <POLICY>",
        "revoke-family",
        "blacklist-only",
        "--auto-refresh",
        "--cookies",
        "--user-cache <SECONDS>",
        "--algorithm <ALG>",
        "--signing-key <FILE>",
        "--verifying-key <FILE>",
        "--issuer <URL>",
        "--trust-issuer <URL>",
        "--trust-audience <AUDIENCE>",
        "--log-requests",
        "--cors-origin <ORIGIN>",
        "--shutdown-timeout <SECONDS>",
        "--purge-every <SECONDS>",
        "createuser",
        "changepassword",
        "deactivate",
        "import",
        "purge",
        "keygen",
    ] {
        assert!(text.contains(flag), "{flag} in --help:\n{text}");
    }
    for hook in ["--clock-file", "--load-test-routes"] {
        assert!(
            !text.contains(hook),
            "{hook} is a hidden test hook:\n{text}"
        );
    }
    // Every flag has a description: the line after each option's is text.
    let lines: Vec<&str> = text.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("--") {
            let description = lines.get(index + 1).map_or("", |next| next.trim());
            assert!(
                !description.is_empty() && !description.starts_with('-'),
                "{line:?} is described"
            );
        }
    }
    for subcommand in [
        &["createuser", "--help"][..],
        &["changepassword", "--help"],
        &["deactivate", "--help"],
        &["import", "--help"],
        &["purge", "--help"],
        &["keygen", "--help"],
    ] {
        let help = run(&dir, subcommand, "");
        assert_eq!(help.status.code(), Some(0), "{subcommand:?}");
        assert!(String::from_utf8_lossy(&help.stdout).contains("Usage:"));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_reuse_policy_names_the_value_and_the_choices_and_creates_no_file() {
    let dir = temp_dir("policy");
    let output = run(
        &dir,
        &[
            "--database",
            "sqlite://made.sqlite3",
            "--reuse-policy",
            "foo",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    no_ansi("a bad --reuse-policy", &output.stderr);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needed in ["'foo'", "--reuse-policy", "revoke-family", "blacklist-only"] {
        assert!(stderr.contains(needed), "{needed} in {stderr}");
    }
    assert!(!stderr.contains("Some("), "{stderr}");
    assert!(!dir.join("made.sqlite3").exists(), "nothing is opened");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn no_database_file_is_created_when_a_later_argument_is_invalid() {
    let dir = temp_dir("no-file");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().map(|address| (taken, address)).unwrap();
    let cases: [(&[&str], i32, &str); 5] = [
        (&["--access-lifetime", "soon"], 2, "'soon'"),
        (&["--token-store", "mongodb://x"], 2, "mongodb://x"),
        (
            &["--algorithm", "ES256", "--signing-key", "missing.pem"],
            1,
            "missing.pem",
        ),
        (
            &["--algorithm", "XS256", "--signing-key", "missing.pem"],
            2,
            "XS256",
        ),
        (&["--listen", &taken.1.to_string()], 1, &taken.1.to_string()),
    ];
    for (args, code, named) in cases {
        let mut all = vec!["--database", "sqlite://made.sqlite3"];
        all.extend(args);
        let output = std::process::Command::new(server_binary())
            .args(&all)
            .current_dir(&dir)
            .env("TOWER_JWT_SECRET", SECRET)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{named} in {stderr}");
        no_ansi("an error", &output.stderr);
        assert!(
            !dir.join("made.sqlite3").exists(),
            "{args:?}: no database file"
        );
    }
    drop(taken);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_address_in_use_is_named() {
    let dir = temp_dir("in-use");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = std::process::Command::new(server_binary())
        .args(["--listen", &address])
        .current_dir(&dir)
        .env("TOWER_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "{stderr}"
    );
    assert!(stderr.contains("in use"), "{stderr}");
    drop(taken);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Whether `token` is signed with `secret` (HS256).
fn signed_with(token: &str, secret: &str) -> bool {
    let mut validation = jsonwebtoken::Validation::new(tower_simplejwt::Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .is_ok()
}

#[test]
fn the_secret_comes_from_the_environment_or_flag_equals_value() {
    let dir = temp_dir("secret-env");
    create_user(&dir, "alice", "wonderland-42", None);
    let alice = json!({"username": "alice", "password": "wonderland-42"});

    let address = free_address();
    let listen = format!("--listen={address}");
    let (server, log) = spawn_logged(
        &dir,
        address,
        "env",
        &[
            &listen,
            "--access-lifetime=60",
            "--reuse-policy=blacklist-only",
        ],
        &[("TOWER_JWT_SECRET", SECRET)],
    );
    let (status, pair) = post_json(address, "/api/token/", &alice);
    assert_eq!(status, 200, "{pair}");
    let access = pair["access"].as_str().unwrap();
    assert!(signed_with(access, SECRET), "signed with TOWER_JWT_SECRET");
    let claims = serde_json::from_slice::<serde_json::Value>(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            access.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60,
        "--access-lifetime=60"
    );
    drop(server);
    no_ansi("the server's log", &std::fs::read(log).unwrap());

    let other = "another-secret-of-at-least-32-bytes!";
    let address = free_address();
    let listen = format!("--listen={address}");
    let secret = format!("--secret={other}");
    let (_server, _) = spawn_logged(&dir, address, "flag", &[&listen, &secret], &[]);
    let (status, pair) = post_json(address, "/api/token/", &alice);
    assert_eq!(status, 200, "{pair}");
    assert!(signed_with(pair["access"].as_str().unwrap(), other));
    drop(_server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn requests_are_logged_only_when_asked_for() {
    let dir = temp_dir("request-log");
    let lines_about = |log: &std::path::Path| {
        std::fs::read_to_string(log)
            .unwrap()
            .lines()
            .filter(|line| line.contains("/api/token/verify/"))
            .count()
    };
    let secret = ("TOWER_JWT_SECRET", SECRET);
    for (name, args, env, expected) in [
        ("default", &[][..], &[secret][..], 0),
        ("flag", &["--log-requests"][..], &[secret][..], 1),
        ("rust-log", &[][..], &[secret, ("RUST_LOG", "info")][..], 1),
    ] {
        let address = free_address();
        let listen = format!("--listen={address}");
        let mut all = vec![listen.as_str()];
        all.extend(args);
        let (server, log) = spawn_logged(&dir, address, name, &all, env);
        let (status, _) = post_json(address, "/api/token/verify/", &json!({"token": "x"}));
        assert_eq!(status, 401);
        drop(server);
        assert_eq!(lines_about(&log), expected, "{name}");
        no_ansi(name, &std::fs::read(&log).unwrap());
    }
    std::fs::remove_dir_all(dir).unwrap();
}
