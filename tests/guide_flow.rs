//! The guide's frontend flow end to end, with the test clock standing in for time.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn obtain_use_expire_refresh_retry_and_reuse() {
    let server = Server::start().await;

    // Log in and call the API.
    let (refresh, access) = server.login(ALICE).await;
    server
        .me(&access)
        .await
        .assert(200, json!({"username": "alice"}));

    // Two hours later the access token has expired: the interceptor sees the guide's 401.
    server.advance(7200);
    let expired = server.me(&access).await;
    expired.assert(401, wrapped("Token is expired"));
    assert_eq!(expired.body["code"], "token_not_valid");

    // It refreshes, and the retried request succeeds with the new access token.
    let refreshed = server
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let new_access = refreshed.str("access");
    server
        .me(&new_access)
        .await
        .assert(200, json!({"username": "alice"}));

    // The old refresh token, used again, is blacklisted.
    server
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .assert(401, token_error("Token is blacklisted"));

    // The refresh token itself expires after seven days without use.
    let (fresh_refresh, _) = server.login(ALICE).await;
    server.advance(604_800);
    server
        .post("/api/token/refresh/", json!({"refresh": fresh_refresh}))
        .await
        .assert(401, token_error("Token is expired"));
}

#[tokio::test]
async fn a_restart_keeps_users_and_blacklisted_tokens() {
    let server = Server::start().await;
    let (refresh, _) = server.login(ALICE).await;
    server
        .post("/api/token/blacklist/", json!({"refresh": refresh}))
        .await
        .assert(200, json!({}));
    let (rotated, _) = server.login(ALICE).await;
    let successor = server
        .post("/api/token/refresh/", json!({"refresh": rotated}))
        .await
        .str("refresh");

    let (dir, database, clock) = server.stop().await;
    let restarted = Server::start_on(dir, database, clock).await;

    restarted.login(ALICE).await;
    restarted
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .assert(401, token_error("Token is blacklisted"));
    restarted
        .post("/api/token/refresh/", json!({"refresh": rotated}))
        .await
        .assert(401, token_error("Token is blacklisted"));
    restarted
        .post("/api/token/verify/", json!({"token": successor}))
        .await
        .assert(400, json!({"non_field_errors": ["Token is blacklisted"]}));
}
