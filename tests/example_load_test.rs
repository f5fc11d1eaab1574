//! The example server's options for the load test: the twins of
//! `GET /api/me/` (the hidden `--load-test-routes`, served by the example's
//! binary) and the user cache (`--user-cache`, in process).

mod process;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use support::{claims, forge, Server, ALICE, BOB, HS256};

fn inactive() -> serde_json::Value {
    json!({"detail": "User is inactive", "code": "user_inactive"})
}

/// Logs alice in, checks that her access token is accepted, then
/// deactivates her in SQLite behind the server's back; her token.
async fn alice_deactivated_after_a_request(server: &Server) -> String {
    let (_, access) = server.login(ALICE).await;
    server
        .me(&access)
        .await
        .assert(200, json!({"username": "alice"}));
    deactivate_alice(server).await;
    access
}

/// Deactivates alice in SQLite behind the server's back.
async fn deactivate_alice(server: &Server) {
    sqlx::query("UPDATE simplejwt_users SET is_active = 0 WHERE username = 'alice'")
        .execute(&server.pool)
        .await
        .unwrap();
}

/// The example binary serving with `--load-test-routes`, and alice's pair.
struct Twins {
    _server: process::Running,
    address: SocketAddr,
    dir: PathBuf,
    refresh: String,
    access: String,
}

impl Twins {
    fn start(extra: &[&str]) -> Twins {
        let dir = process::temp_dir("twins");
        process::create_user(&dir, ALICE.0, ALICE.1, None);
        let inactive = process::run(
            &dir,
            &["createuser", BOB.0, "--password", BOB.1, "--inactive"],
            "",
        );
        assert!(inactive.status.success(), "{inactive:?}");
        let address = process::free_address();
        let mut args = vec!["--load-test-routes"];
        args.extend(extra);
        let server = process::serve(&dir, address, &args);
        let pair = process::post(
            address,
            "/api/token/",
            &json!({"username": ALICE.0, "password": ALICE.1}),
        );
        assert_eq!(pair.status, 200, "{pair:?}");
        Twins {
            _server: server,
            address,
            dir,
            refresh: pair.body["refresh"].as_str().unwrap().to_owned(),
            access: pair.body["access"].as_str().unwrap().to_owned(),
        }
    }

    /// One request with an Authorization header (none when empty).
    fn request(&self, method: &str, path: &str, authorization: &str) -> process::Answer {
        let mut stream = TcpStream::connect(self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let authorization = match authorization {
            "" => String::new(),
            value => format!("Authorization: {value}\r\n"),
        };
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{authorization}Content-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.address
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let mut lines = head.lines();
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let headers = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        process::Answer {
            status,
            headers,
            body: serde_json::from_str(body).unwrap_or(Value::Null),
        }
    }
}

impl Drop for Twins {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_twins_of_api_me_answer_as_it_does() {
    let twins = Twins::start(&[]);
    let bearer = format!("Bearer {}", twins.access);
    let alice = json!({"username": "alice"});
    for path in ["/api/me/", "/load-test/jsonwebtoken/"] {
        let answer = twins.request("GET", path, &bearer);
        assert_eq!((answer.status, &answer.body), (200, &alice), "{path}");
    }
    // The same handler with a fixed subject, whatever is sent.
    for authorization in [bearer.as_str(), "", "Bearer nonsense"] {
        let answer = twins.request("GET", "/load-test/unprotected/", authorization);
        assert_eq!(
            (answer.status, answer.body),
            (200, json!({"username": "load-test"})),
            "{authorization:?}"
        );
    }
    // The same view: the allowed methods listed, other methods refused.
    for path in [
        "/api/me/",
        "/load-test/unprotected/",
        "/load-test/jsonwebtoken/",
    ] {
        let answer = twins.request("GET", path, &bearer);
        assert_eq!(answer.header("allow"), Some("GET, OPTIONS"), "{path}");
        let answer = twins.request("DELETE", path, &bearer);
        assert_eq!(
            (answer.status, answer.body),
            (405, json!({"detail": "Method \"DELETE\" not allowed."})),
            "{path}"
        );
    }
}

#[test]
fn the_jsonwebtoken_twin_refuses_what_api_me_refuses() {
    let twins = Twins::start(&[]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let forged = |user_id: &str, secret: &str| {
        format!(
            "Bearer {}",
            forge(HS256, &claims("access", json!(user_id), now), secret)
        )
    };
    let refused = [
        String::new(),
        format!("Bearer {}", twins.refresh),
        forged("1", "another secret"),
        forged("2", process::SECRET),
        forged("99", process::SECRET),
    ];
    for authorization in refused {
        let me = twins.request("GET", "/api/me/", &authorization);
        let twin = twins.request("GET", "/load-test/jsonwebtoken/", &authorization);
        assert_eq!(me.status, 401, "/api/me/ with {authorization:?}");
        assert_eq!(
            twin.status, 401,
            "the twin with {authorization:?}: {twin:?}"
        );
        assert_eq!(twin.body, me.body, "the same refusal for {authorization:?}");
    }
}

#[test]
fn the_twins_are_not_served_unless_asked_for() {
    let dir = process::temp_dir("twins");
    let address = process::free_address();
    let _server = process::serve(&dir, address, &[]);
    for path in ["/load-test/unprotected/", "/load-test/jsonwebtoken/"] {
        let answer = process::get(address, path);
        assert_eq!(
            (answer.status, answer.body),
            (404, json!({"detail": "Not found."})),
            "{path}"
        );
    }
    drop(_server);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_the_user_cache_a_deactivated_user_is_refused_at_once() {
    let server = Server::start().await;
    let access = alice_deactivated_after_a_request(&server).await;
    server.me(&access).await.assert(401, inactive());
}

#[tokio::test]
async fn with_the_user_cache_a_deactivated_user_is_refused_once_it_expires() {
    let server =
        Server::start_configured(|options| options.user_cache = Some(Duration::from_secs(5))).await;
    let access = alice_deactivated_after_a_request(&server).await;
    still_in_until_the_cache_expires(&server, &access).await;
}

#[tokio::test]
async fn with_the_user_cache_a_user_read_again_is_remembered_again() {
    let server =
        Server::start_configured(|options| options.user_cache = Some(Duration::from_secs(5))).await;
    let (_, access) = server.login(ALICE).await;
    // What the login remembered has expired: this request reads SQLite.
    server.advance(5);
    server
        .me(&access)
        .await
        .assert(200, json!({"username": "alice"}));
    deactivate_alice(&server).await;
    still_in_until_the_cache_expires(&server, &access).await;
}

/// With a 5 s user cache holding alice, remembered now: her access token
/// still gets in 4 s later, and is refused as inactive at 5 s.
async fn still_in_until_the_cache_expires(server: &Server, access: &str) {
    server.advance(4);
    server
        .me(access)
        .await
        .assert(200, json!({"username": "alice"}));
    server.advance(1);
    server.me(access).await.assert(401, inactive());
}
