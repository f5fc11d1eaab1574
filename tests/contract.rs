//! Every row of CONTRACT.md's tables, over real HTTP against the example server.

mod support;

use http::Method;
use serde_json::{json, Value};
use support::*;

const OBTAIN: &str = "/api/token/";
const REFRESH: &str = "/api/token/refresh/";
const VERIFY: &str = "/api/token/verify/";
const BLACKLIST: &str = "/api/token/blacklist/";
const ME: &str = "/api/me/";

fn no_account() -> Value {
    json!({"detail": "No active account found with the given credentials"})
}

fn no_account_for_token() -> Value {
    json!({"detail": "No active account found for the given token."})
}

// ---- POST /api/token/ ----

#[tokio::test]
async fn obtain_pair_with_right_credentials() {
    let server = Server::start().await;
    let answer = server
        .post(
            OBTAIN,
            json!({"username": "alice", "password": "wonderland-42"}),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.www_authenticate(), None);
    assert_eq!(answer.headers["content-type"], "application/json");
    let keys: Vec<_> = answer.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let (refresh, access) = (
        claims_of(&answer.str("refresh")),
        claims_of(&answer.str("access")),
    );
    assert_eq!(refresh["token_type"], "refresh");
    assert_eq!(access["token_type"], "access");
    assert_eq!(refresh["user_id"], json!("1"));
    assert_eq!(access["user_id"], json!("1"));
    assert_eq!(
        access["exp"].as_u64().unwrap() - access["iat"].as_u64().unwrap(),
        7200
    );
    assert_eq!(
        refresh["exp"].as_u64().unwrap() - refresh["iat"].as_u64().unwrap(),
        604_800
    );
    assert_eq!(access["iat"], json!(START));
    assert_eq!(
        server.me(&answer.str("access")).await.body,
        json!({"username": "alice"})
    );
}

#[tokio::test]
async fn obtain_refuses_wrong_unknown_and_inactive_alike() {
    let server = Server::start().await;
    for credentials in [
        json!({"username": "alice", "password": "wrong"}),
        json!({"username": "nobody", "password": "wonderland-42"}),
        json!({"username": "bob", "password": "builder-42"}),
        json!({"username": "ALICE", "password": "wonderland-42"}),
    ] {
        server
            .post(OBTAIN, credentials)
            .await
            .assert(401, no_account());
    }
}

#[tokio::test]
async fn obtain_field_rules() {
    let server = Server::start().await;
    server
        .post(OBTAIN, json!({"username": "alice"}))
        .await
        .assert(400, json!({"password": ["This field is required."]}));
    server.post(OBTAIN, json!({})).await.assert(
        400,
        json!({"username": ["This field is required."], "password": ["This field is required."]}),
    );
    server
        .post(OBTAIN, json!({"username": "", "password": "x"}))
        .await
        .assert(400, json!({"username": ["This field may not be blank."]}));
    server
        .post(OBTAIN, json!({"username": "  ", "password": "x"}))
        .await
        .assert(400, json!({"username": ["This field may not be blank."]}));
    server
        .post(OBTAIN, json!({"username": "alice", "password": null}))
        .await
        .assert(400, json!({"password": ["This field may not be null."]}));
    server
        .post(OBTAIN, json!({"username": true, "password": "x"}))
        .await
        .assert(400, json!({"username": ["Not a valid string."]}));
    // A number is taken in its text form: a wrong password, not a bad request.
    server
        .post(OBTAIN, json!({"username": "alice", "password": 123}))
        .await
        .assert(401, no_account());
    // Extra fields are ignored; surrounding whitespace is trimmed.
    let answer = server
        .post(
            OBTAIN,
            json!({"username": " alice ", "password": "wonderland-42\n", "remember": true}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

#[tokio::test]
async fn obtain_body_rules() {
    let server = Server::start().await;
    let answer = server.post_raw(OBTAIN, "application/json", "{bad").await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - "),
        "{}",
        answer.text
    );
    assert_eq!(answer.body.as_object().unwrap().len(), 1);
    assert_eq!(answer.www_authenticate(), None);

    server
        .post_raw(OBTAIN, "text/plain", "username=alice")
        .await
        .assert(
            415,
            json!({"detail": "Unsupported media type \"text/plain\" in request."}),
        );
    server
        .post_raw(OBTAIN, "application/json", "[1]")
        .await
        .assert(
            400,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        );
    server
        .post_raw(OBTAIN, "application/json", "null")
        .await
        .assert(400, json!({"non_field_errors": ["No data provided"]}));
    let form = server
        .post_raw(
            OBTAIN,
            "application/x-www-form-urlencoded",
            "username=alice&password=wonderland-42",
        )
        .await;
    assert_eq!(
        form.status, 200,
        "form bodies are parsed too: {}",
        form.text
    );
}

#[tokio::test]
async fn obtain_method_not_allowed() {
    let server = Server::start().await;
    let answer = server.request(Method::GET, OBTAIN, &[], "").await;
    answer.assert(405, json!({"detail": "Method \"GET\" not allowed."}));
    assert_eq!(answer.headers["allow"], "POST, OPTIONS");
    server
        .request(Method::PUT, OBTAIN, &[], "")
        .await
        .assert(405, json!({"detail": "Method \"PUT\" not allowed."}));
    let options = server.request(Method::OPTIONS, OBTAIN, &[], "").await;
    assert_eq!(options.status, 200);
    assert_eq!(options.body["name"], "Token Obtain Pair");
}

#[tokio::test]
async fn django_users_log_in_unchanged() {
    let server = Server::start().await;
    let (_, access) = server.login(CAROL).await;
    assert_eq!(claims_of(&access)["user_id"], json!("3"));
    server
        .me(&access)
        .await
        .assert(200, json!({"username": "carol"}));
}

// ---- POST /api/token/refresh/ ----

#[tokio::test]
async fn refresh_rotates() {
    let server = Server::start().await;
    let (refresh, _) = server.login(ALICE).await;
    server.advance(60);
    let answer = server.post(REFRESH, json!({"refresh": refresh})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body.as_object().unwrap().len(), 2);
    let (old, new, access) = (
        claims_of(&refresh),
        claims_of(&answer.str("refresh")),
        claims_of(&answer.str("access")),
    );
    assert_ne!(new["jti"], old["jti"]);
    assert_eq!(new["iat"], json!(START + 60));
    assert_eq!(new["exp"], json!(START + 60 + 604_800));
    assert_eq!(access["iat"], json!(START + 60));
    assert_eq!(access["exp"], json!(START + 60 + 7200));
    assert_eq!(new["user_id"], json!("1"));
    server
        .me(&answer.str("access"))
        .await
        .assert(200, json!({"username": "alice"}));
    // The presented token is blacklisted.
    server
        .post(REFRESH, json!({"refresh": refresh}))
        .await
        .assert(401, token_error("Token is blacklisted"));
    server
        .post(VERIFY, json!({"token": refresh}))
        .await
        .assert(400, json!({"non_field_errors": ["Token is blacklisted"]}));
}

#[tokio::test]
async fn refresh_replay_revokes_the_family() {
    let server = Server::start().await;
    let (first, _) = server.login(ALICE).await;
    let second = server
        .post(REFRESH, json!({"refresh": first}))
        .await
        .str("refresh");
    server
        .post(REFRESH, json!({"refresh": first}))
        .await
        .assert(401, token_error("Token is blacklisted"));
    // Ours: the replay revoked the successor too.
    server
        .post(REFRESH, json!({"refresh": second}))
        .await
        .assert(401, token_error("Token is blacklisted"));
}

#[tokio::test]
async fn refresh_refusals() {
    let server = Server::start().await;
    let (refresh, access) = server.login(ALICE).await;
    server
        .post(REFRESH, json!({"refresh": access}))
        .await
        .assert(401, token_error("Token has wrong type"));
    let bad_signature = forge(
        HS256,
        &claims("refresh", json!("1"), START),
        "another-secret",
    );
    server
        .post(REFRESH, json!({"refresh": bad_signature}))
        .await
        .assert(401, token_error("Token is invalid"));
    let none = format!(
        "{}.",
        refresh.rsplit_once('.').unwrap().0.replacen(
            refresh.split('.').next().unwrap(),
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
            1,
        )
    );
    server
        .post(REFRESH, json!({"refresh": none}))
        .await
        .assert(401, token_error("Token is invalid"));
    server
        .post(REFRESH, json!({"refresh": "garbage"}))
        .await
        .assert(401, token_error("Token is invalid"));
    let no_jti = forge(
        HS256,
        &without(claims("refresh", json!("1"), START), "jti"),
        SECRET,
    );
    server
        .post(REFRESH, json!({"refresh": no_jti}))
        .await
        .assert(401, token_error("Token has no id"));
    server.advance(604_800);
    server
        .post(REFRESH, json!({"refresh": refresh}))
        .await
        .assert(401, token_error("Token is expired"));
}

#[tokio::test]
async fn refresh_of_users_that_cannot_log_in() {
    let server = Server::start().await;
    for user_id in [
        json!("2"),
        json!("99"),
        json!(["1"]),
        json!({"id": 1}),
        json!(1.5),
    ] {
        let token = forge(HS256, &claims("refresh", user_id.clone(), START), SECRET);
        server
            .post(REFRESH, json!({"refresh": token}))
            .await
            .assert(401, no_account_for_token());
    }
    // An integer user id is the user with that id.
    let token = forge(HS256, &claims("refresh", json!(1), START), SECRET);
    assert_eq!(
        server.post(REFRESH, json!({"refresh": token})).await.status,
        200
    );
}

#[tokio::test]
async fn refresh_field_rules() {
    let server = Server::start().await;
    server
        .post(REFRESH, json!({}))
        .await
        .assert(400, json!({"refresh": ["This field is required."]}));
    server
        .post(REFRESH, json!({"refresh": ""}))
        .await
        .assert(400, json!({"refresh": ["This field may not be blank."]}));
    server
        .request(Method::GET, REFRESH, &[], "")
        .await
        .assert(405, json!({"detail": "Method \"GET\" not allowed."}));
    server.post_raw(REFRESH, "text/plain", "x").await.assert(
        415,
        json!({"detail": "Unsupported media type \"text/plain\" in request."}),
    );
}

#[tokio::test]
async fn refresh_accepts_unrecorded_tokens_minted_with_the_same_key() {
    let server = Server::start().await;
    // As if minted by the Django backend sharing the key: never recorded here.
    let foreign = forge(HS256, &claims("refresh", json!("1"), START), SECRET);
    let answer = server.post(REFRESH, json!({"refresh": foreign})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    server
        .post(REFRESH, json!({"refresh": foreign}))
        .await
        .assert(401, token_error("Token is blacklisted"));
}

// ---- POST /api/token/verify/ ----

#[tokio::test]
async fn verify_valid_tokens() {
    let server = Server::start().await;
    let (refresh, access) = server.login(ALICE).await;
    server
        .post(VERIFY, json!({"token": access}))
        .await
        .assert(200, json!({}));
    server
        .post(VERIFY, json!({"token": refresh}))
        .await
        .assert(200, json!({}));
    let untyped = forge(
        HS256,
        &without(claims("access", json!("1"), START), "token_type"),
        SECRET,
    );
    server
        .post(VERIFY, json!({"token": untyped}))
        .await
        .assert(200, json!({}));
}

#[tokio::test]
async fn verify_refusals() {
    let server = Server::start().await;
    server
        .post(VERIFY, json!({"token": "garbage"}))
        .await
        .assert(401, token_error("Token is invalid"));
    let no_jti = forge(
        HS256,
        &without(claims("access", json!("1"), START), "jti"),
        SECRET,
    );
    server
        .post(VERIFY, json!({"token": no_jti}))
        .await
        .assert(401, token_error("Token has no id"));
    let no_exp = forge(
        HS256,
        &without(claims("access", json!("1"), START), "exp"),
        SECRET,
    );
    server
        .post(VERIFY, json!({"token": no_exp}))
        .await
        .assert(401, token_error("Token has no 'exp' claim"));
    let (_, access) = server.login(ALICE).await;
    server.advance(7200);
    server
        .post(VERIFY, json!({"token": access}))
        .await
        .assert(401, token_error("Token is expired"));
    server
        .post(VERIFY, json!({}))
        .await
        .assert(400, json!({"token": ["This field is required."]}));
    server
        .post(VERIFY, json!({"token": ""}))
        .await
        .assert(400, json!({"token": ["This field may not be blank."]}));
}

// ---- POST /api/token/blacklist/ ----

#[tokio::test]
async fn blacklist_logs_out() {
    let server = Server::start().await;
    let (refresh, access) = server.login(ALICE).await;
    server
        .post(BLACKLIST, json!({"refresh": refresh}))
        .await
        .assert(200, json!({}));
    server
        .post(REFRESH, json!({"refresh": refresh}))
        .await
        .assert(401, token_error("Token is blacklisted"));
    server
        .post(VERIFY, json!({"token": refresh}))
        .await
        .assert(400, json!({"non_field_errors": ["Token is blacklisted"]}));
    server
        .post(BLACKLIST, json!({"refresh": refresh}))
        .await
        .assert(401, token_error("Token is blacklisted"));
    server
        .post(BLACKLIST, json!({"refresh": access}))
        .await
        .assert(401, token_error("Token has wrong type"));
    server
        .post(BLACKLIST, json!({}))
        .await
        .assert(400, json!({"refresh": ["This field is required."]}));
}

// ---- A protected resource ----

#[tokio::test]
async fn protected_resource_with_valid_access_token() {
    let server = Server::start().await;
    let (_, access) = server.login(ALICE).await;
    server
        .get_with(ME, &format!("Bearer {access}"))
        .await
        .assert(200, json!({"username": "alice"}));
    server
        .get_with(ME, &format!("Bearer     {access}"))
        .await
        .assert(200, json!({"username": "alice"}));
}

#[tokio::test]
async fn protected_resource_without_credentials() {
    let server = Server::start().await;
    let (_, access) = server.login(ALICE).await;
    let not_provided = json!({"detail": "Authentication credentials were not provided."});
    server
        .request(Method::GET, ME, &[], "")
        .await
        .assert(401, not_provided.clone());
    server
        .get_with(ME, &format!("Token {access}"))
        .await
        .assert(401, not_provided.clone());
    server
        .get_with(ME, &format!("bearer {access}"))
        .await
        .assert(401, not_provided.clone());
    // Authentication comes before the method check, as in DRF.
    server
        .request(Method::POST, ME, &[], "")
        .await
        .assert(401, not_provided);
    let bad_header = json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"});
    server
        .get_with(ME, "Bearer")
        .await
        .assert(401, bad_header.clone());
    server
        .get_with(ME, &format!("Bearer {access} extra"))
        .await
        .assert(401, bad_header);
}

#[tokio::test]
async fn protected_resource_with_refused_tokens() {
    let server = Server::start().await;
    let (refresh, access) = server.login(ALICE).await;
    server
        .me(&refresh)
        .await
        .assert(401, wrapped("Token has wrong type"));
    server
        .me("garbage")
        .await
        .assert(401, wrapped("Token is invalid"));
    let bad_signature = forge(
        HS256,
        &claims("access", json!("1"), START),
        "another-secret",
    );
    server
        .me(&bad_signature)
        .await
        .assert(401, wrapped("Token is invalid"));
    server.advance(7200);
    server
        .me(&access)
        .await
        .assert(401, wrapped("Token is expired"));
}

#[tokio::test]
async fn protected_resource_user_rules() {
    let server = Server::start().await;
    let inactive = forge(HS256, &claims("access", json!("2"), START), SECRET);
    server.me(&inactive).await.assert(
        401,
        json!({"detail": "User is inactive", "code": "user_inactive"}),
    );
    for user_id in [json!("99"), json!(["1"]), json!({"id": "1"})] {
        let token = forge(HS256, &claims("access", user_id, START), SECRET);
        server.me(&token).await.assert(
            401,
            json!({"detail": "User not found", "code": "user_not_found"}),
        );
    }
    let anonymous = forge(
        HS256,
        &without(claims("access", json!("1"), START), "user_id"),
        SECRET,
    );
    server.me(&anonymous).await.assert(
        401,
        json!({"detail": "Token contained no recognizable user identification", "code": "token_not_valid"}),
    );
}

#[tokio::test]
async fn protected_resource_method_not_allowed() {
    let server = Server::start().await;
    let (_, access) = server.login(ALICE).await;
    let answer = server
        .request(
            Method::POST,
            ME,
            &[("authorization", &format!("Bearer {access}"))],
            "",
        )
        .await;
    answer.assert(405, json!({"detail": "Method \"POST\" not allowed."}));
}

// ---- Failures of our own ----

#[tokio::test]
async fn a_dead_database_is_503_everywhere_it_is_needed() {
    // Users and tokens share one SQLite database here: each request gets the
    // 503 of the first store it needs (CONTRACT.md, "Failures of our own").
    let server = Server::start().await;
    let (refresh, access) = server.login(ALICE).await;
    server.pool.close().await;
    let tokens_down =
        json!({"detail": "Token store unavailable, try again later.", "code": "store_unavailable"});
    let users_down = json!({"detail": "Service temporarily unavailable, try again later.", "code": "service_unavailable"});
    for (answer, expected) in [
        (
            server
                .post(
                    OBTAIN,
                    json!({"username": "alice", "password": "wonderland-42"}),
                )
                .await,
            &users_down,
        ),
        // The refresh token's user is read before the token store.
        (
            server.post(REFRESH, json!({"refresh": refresh})).await,
            &users_down,
        ),
        (
            server.post(VERIFY, json!({"token": refresh})).await,
            &tokens_down,
        ),
        (
            server.post(BLACKLIST, json!({"refresh": refresh})).await,
            &tokens_down,
        ),
        (server.me(&access).await, &users_down),
    ] {
        answer.assert(503, expected.clone());
        assert_eq!(answer.headers["retry-after"], "1");
    }
}

// ---- Caching (ours: the reference sends no Cache-Control) ----

/// The answer forbids every cache to store it (RFC 6749 §5.1).
#[track_caller]
fn assert_no_store(answer: &Answer, what: &str) {
    let values: Vec<_> = answer.headers.get_all("cache-control").iter().collect();
    assert_eq!(values, ["no-store"], "Cache-Control of {what}");
    assert_eq!(answer.headers["pragma"], "no-cache", "Pragma of {what}");
}

#[tokio::test]
async fn every_answer_of_the_token_endpoints_is_no_store() {
    let server = Server::start().await;
    let login = server
        .post(
            OBTAIN,
            json!({"username": "alice", "password": "wonderland-42"}),
        )
        .await;
    assert_eq!(login.status, 200);
    assert_no_store(&login, "obtain 200");
    let (refresh, access) = (login.str("refresh"), login.str("access"));
    let rotated = server.post(REFRESH, json!({"refresh": refresh})).await;
    assert_eq!(rotated.status, 200);
    assert_no_store(&rotated, "refresh 200");
    let successor = rotated.str("refresh");
    let verified = server.post(VERIFY, json!({"token": access})).await;
    verified.assert(200, json!({}));
    assert_no_store(&verified, "verify 200");
    let logged_out = server.post(BLACKLIST, json!({"refresh": successor})).await;
    logged_out.assert(200, json!({}));
    assert_no_store(&logged_out, "blacklist 200");

    // Refusals of every kind.
    let refusals = [
        (
            "obtain 401",
            server
                .post(OBTAIN, json!({"username": "nobody", "password": "x"}))
                .await,
        ),
        ("obtain 400", server.post(OBTAIN, json!({})).await),
        (
            "obtain 415",
            server.post_raw(OBTAIN, "text/plain", "x").await,
        ),
        (
            "obtain 405",
            server.request(Method::GET, OBTAIN, &[], "").await,
        ),
        (
            "refresh 401",
            server.post(REFRESH, json!({"refresh": refresh})).await,
        ),
        (
            "verify 400",
            server.post(VERIFY, json!({"token": successor})).await,
        ),
        (
            "blacklist 401",
            server.post(BLACKLIST, json!({"refresh": access})).await,
        ),
    ];
    for (what, answer) in &refusals {
        assert!(answer.status.is_client_error(), "{what}: {}", answer.text);
        assert_no_store(answer, what);
    }
    let options = server.request(Method::OPTIONS, OBTAIN, &[], "").await;
    assert_eq!(options.status, 200);
    assert_no_store(&options, "obtain OPTIONS");
}

#[tokio::test]
async fn token_cookies_come_with_no_store() {
    let server = Server::start_configured(|options| options.cookies = true).await;
    let login = server
        .post(
            OBTAIN,
            json!({"username": "alice", "password": "wonderland-42"}),
        )
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.headers.get_all("set-cookie").iter().count(), 2);
    assert_no_store(&login, "obtain 200 with cookies");
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies() {
    let server = Server::start().await;
    let big = json!({"username": "alice", "password": "x".repeat(70 * 1024)});
    server
        .post(OBTAIN, big)
        .await
        .assert(413, json!({"detail": "Request body too large."}));
    let nested = format!(
        r#"{{"refresh": {}1{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let answer = server.post_raw(REFRESH, "application/json", nested).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error - "));
    let huge_token = "a".repeat(60 * 1024);
    server
        .post(VERIFY, json!({"token": huge_token}))
        .await
        .assert(401, token_error("Token is invalid"));
}

#[tokio::test]
async fn unknown_paths_are_not_found() {
    let server = Server::start().await;
    assert_eq!(
        server.request(Method::GET, "/nope", &[], "").await.status,
        404
    );
}
