//! The example server's options for the load test: the twins of
//! `GET /api/me/` (`--load-test-routes`) and the user cache (`--user-cache`).

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;

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

#[tokio::test]
async fn the_twins_of_api_me_answer_as_it_does() {
    let server = Server::start_configured(|options| options.load_test_routes = true).await;
    let (_, access) = server.login(ALICE).await;
    let bearer = format!("Bearer {access}");
    server
        .get_with("/api/me/", &bearer)
        .await
        .assert(200, json!({"username": "alice"}));
    server
        .get_with("/load-test/jsonwebtoken/", &bearer)
        .await
        .assert(200, json!({"username": "alice"}));
    // The same handler with a fixed subject, whatever is sent.
    for authorization in [bearer.as_str(), "", "Bearer nonsense"] {
        server
            .get_with("/load-test/unprotected/", authorization)
            .await
            .assert(200, json!({"username": "load-test"}));
    }
    // The same view: the allowed methods listed, other methods refused.
    for path in [
        "/api/me/",
        "/load-test/unprotected/",
        "/load-test/jsonwebtoken/",
    ] {
        let answer = server.get_with(path, &bearer).await;
        assert_eq!(answer.headers["allow"], "GET, OPTIONS", "{path}");
        server
            .request(
                http::Method::DELETE,
                path,
                &[("authorization", &bearer)],
                "",
            )
            .await
            .assert(405, json!({"detail": "Method \"DELETE\" not allowed."}));
    }
}

#[tokio::test]
async fn the_jsonwebtoken_twin_refuses_what_api_me_refuses() {
    let server = Server::start_configured(|options| options.load_test_routes = true).await;
    let (refresh, _) = server.login(ALICE).await;
    let forged = |user_id: &str, secret: &str| {
        format!(
            "Bearer {}",
            forge(HS256, &claims("access", json!(user_id), START), secret)
        )
    };
    let refused = [
        String::new(),
        format!("Bearer {refresh}"),
        forged("1", "another secret"),
        forged("2", SECRET),
        forged("99", SECRET),
    ];
    for authorization in refused {
        let me = server.get_with("/api/me/", &authorization).await;
        let twin = server
            .get_with("/load-test/jsonwebtoken/", &authorization)
            .await;
        assert_eq!(me.status, 401, "/api/me/ with {authorization:?}");
        assert_eq!(
            twin.status, 401,
            "the twin with {authorization:?}: {}",
            twin.text
        );
        assert_eq!(twin.body, me.body, "the same refusal for {authorization:?}");
    }
}

#[tokio::test]
async fn the_twins_are_not_served_unless_asked_for() {
    let server = Server::start().await;
    for path in ["/load-test/unprotected/", "/load-test/jsonwebtoken/"] {
        server
            .get_with(path, "")
            .await
            .assert(404, json!({"detail": "Not found."}));
    }
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
