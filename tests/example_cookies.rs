//! The example server in cookie mode (`--cookies`), as a browser meets it:
//! tokens only in `HttpOnly` cookies with prefixed names, and DRF's 403 body
//! for a request the CSRF check refuses.

mod process;

use serde_json::json;

use process::*;

fn set_cookies(answer: &Answer) -> Vec<&str> {
    answer
        .headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .map(|(_, value)| value.as_str())
        .collect()
}

#[test]
fn cookie_mode_keeps_tokens_from_scripts_and_refuses_cross_site_posts_in_drfs_shape() {
    let dir = temp_dir("cookies");
    create_user(&dir, "alice", "wonderland-42", None);
    let address = free_address();
    let _server = serve(&dir, address, &["--cookies"]);
    let credentials = json!({"username": "alice", "password": "wonderland-42"});

    let login = post(address, "/api/token/", &credentials);
    assert_eq!(
        (login.status, &login.body),
        (200, &json!({})),
        "no token in the body"
    );
    let cookies = set_cookies(&login);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(
        cookies[0].starts_with("__Host-access_token=ey"),
        "{cookies:?}"
    );
    assert!(
        cookies[1].starts_with("__Secure-refresh_token=ey"),
        "{cookies:?}"
    );
    assert!(cookies.iter().all(|cookie| cookie.contains("; HttpOnly")));

    let refresh_cookie = cookies[1].split(';').next().unwrap();
    let same_origin = [
        ("Cookie", refresh_cookie),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let refreshed = post_with(address, "/api/token/refresh/", &same_origin, &json!({}));
    assert_eq!((refreshed.status, &refreshed.body), (200, &json!({})));
    assert_eq!(set_cookies(&refreshed).len(), 2);

    let cross_site = [
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ];
    let refused = post_with(address, "/api/token/", &cross_site, &credentials);
    assert_eq!(
        (refused.status, &refused.body),
        (
            403,
            &json!({"detail": "CSRF Failed: Cross-Origin request detected."})
        )
    );
    let old_browser = [("Origin", "https://evil.example")];
    let refused = post_with(address, "/api/token/", &old_browser, &credentials);
    assert_eq!(refused.status, 403);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.starts_with("CSRF Failed: ")),
        "{:?}",
        refused.body
    );
    let _ = std::fs::remove_dir_all(dir);
}
