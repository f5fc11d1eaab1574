//! The lifecycle API, called as an app's own handlers and jobs call it: no HTTP.

use std::sync::Arc;
use std::time::Duration;

use tower_simplejwt::clock::ManualClock;
use tower_simplejwt::config::{JwtConfig, ReusePolicy};
use tower_simplejwt::credentials::{
    MemoryUserStore, PasswordAuthenticator, PasswordHasher, Subject, UserStore,
};
use tower_simplejwt::store::{MemoryTokenStore, TokenState, TokenStore};
use tower_simplejwt::token::{TokenError, TokenKind};
use tower_simplejwt::{Jwt, LifecycleError};

/// An HS256 secret: 32 bytes or more.
const SECRET: &str = "a lifecycle test secret, 32 bytes or more";
const NOW: u64 = 1_700_000_000;

struct App {
    jwt: Jwt,
    store: Arc<MemoryTokenStore>,
    clock: ManualClock,
}

async fn app(config: JwtConfig) -> App {
    let hasher = PasswordHasher::default();
    let users = MemoryUserStore::new();
    let hash = hasher.hash("wonderland-42").unwrap();
    users.create("alice", &hash, true).await.unwrap();
    users.create("mallory", &hash, false).await.unwrap();
    users.create("bob", &hash, true).await.unwrap();
    let clock = ManualClock::new(NOW);
    let store = Arc::new(MemoryTokenStore::new());
    let jwt = Jwt::builder(config)
        .shared_token_store(store.clone())
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    App { jwt, store, clock }
}

async fn guide() -> App {
    app(JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false)).await
}

fn is_blacklisted<T: std::fmt::Debug>(result: Result<T, LifecycleError>) -> bool {
    matches!(result, Err(LifecycleError::Token(TokenError::Blacklisted)))
}

#[tokio::test]
async fn login_gives_a_recorded_pair_to_an_active_user_only() {
    let app = guide().await;
    let pair = app.jwt.login("alice", "wonderland-42").await.unwrap();
    assert_eq!(pair.refresh.claims.subject(), Some("1"));
    assert_eq!(pair.access.claims.subject(), Some("1"));
    assert_eq!(pair.access.claims.kind(), Some(TokenKind::Access));
    assert_eq!(pair.refresh.claims.kind(), Some(TokenKind::Refresh));
    assert_eq!(pair.access.claims.exp, NOW + 2 * 3600);
    let state = app
        .store
        .state("1", &pair.refresh.claims.jti)
        .await
        .unwrap();
    assert_eq!(
        state,
        TokenState::Active,
        "the refresh token starts a family"
    );

    for (username, password) in [
        ("alice", "wrong"),
        ("nobody", "wonderland-42"),
        ("mallory", "wonderland-42"),
    ] {
        assert!(
            matches!(
                app.jwt.login(username, password).await,
                Err(LifecycleError::InvalidCredentials)
            ),
            "{username}"
        );
    }
}

#[tokio::test]
async fn issue_for_records_a_family_with_the_apps_claims() {
    let app = guide().await;
    let mut subject = Subject::new("1", "alice", true);
    subject.extra_claims.insert("role".into(), "editor".into());
    let pair = app.jwt.issue_for(&subject).await.unwrap();
    assert_eq!(pair.refresh.claims.extra["role"], "editor");
    assert_eq!(pair.access.claims.extra["role"], "editor");
    let state = app
        .store
        .state("1", &pair.refresh.claims.jti)
        .await
        .unwrap();
    assert_eq!(state, TokenState::Active);

    // The pair refreshes like a login's, and the claims follow the family.
    let refreshed = app.jwt.refresh(&pair.refresh.token).await.unwrap();
    assert_eq!(refreshed.access.claims.extra["role"], "editor");

    assert!(matches!(
        app.jwt
            .issue_for(&Subject::new("2", "mallory", false))
            .await,
        Err(LifecycleError::InactiveSubject)
    ));
    let remote = Subject::remote("https://auth.example", "1");
    assert!(matches!(
        app.jwt.issue_for(&remote).await,
        Err(LifecycleError::ForeignSubject { issuer }) if issuer == "https://auth.example"
    ));
}

#[tokio::test]
async fn refresh_rotates_and_a_replay_revokes_the_family() {
    let app = guide().await;
    let pair = app.jwt.login("alice", "wonderland-42").await.unwrap();
    app.clock.advance(Duration::from_secs(60));
    let first = app.jwt.refresh(&pair.refresh.token).await.unwrap();
    let successor = first.refresh.expect("the guide rotates");
    assert_ne!(successor.claims.jti, pair.refresh.claims.jti);
    assert_eq!(first.access.claims.exp, NOW + 60 + 2 * 3600);

    // The thief replays the rotated token: refused, and the family ends.
    assert!(is_blacklisted(app.jwt.refresh(&pair.refresh.token).await));
    assert!(is_blacklisted(app.jwt.refresh(&successor.token).await));

    // An access token is not a refresh token; garbage is invalid.
    assert!(matches!(
        app.jwt.refresh(&first.access.token).await,
        Err(LifecycleError::Token(TokenError::WrongType))
    ));
    assert!(matches!(
        app.jwt.refresh("garbage").await,
        Err(LifecycleError::Token(TokenError::Invalid))
    ));
    // Past its expiry.
    let late = app.jwt.login("alice", "wonderland-42").await.unwrap();
    app.clock.advance(Duration::from_secs(8 * 24 * 3600));
    assert!(matches!(
        app.jwt.refresh(&late.refresh.token).await,
        Err(LifecycleError::Token(TokenError::Expired))
    ));
}

#[tokio::test]
async fn a_replay_within_the_grace_window_gets_the_same_successor() {
    let config = JwtConfig::simplejwt_guide(SECRET)
        .with_migration_mode(false)
        .with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
    let app = app(config).await;
    let pair = app.jwt.login("alice", "wonderland-42").await.unwrap();
    let first = app.jwt.refresh(&pair.refresh.token).await.unwrap();
    app.clock.advance(Duration::from_secs(9));
    let again = app.jwt.refresh(&pair.refresh.token).await.unwrap();
    let (first, again) = (first.refresh.unwrap(), again.refresh.unwrap());
    assert_eq!(again.token, first.token);
    assert_eq!(
        again.claims, first.claims,
        "the kept successor's own claims"
    );
    app.clock.advance(Duration::from_secs(1));
    assert!(is_blacklisted(app.jwt.refresh(&pair.refresh.token).await));
}

#[tokio::test]
async fn refresh_without_rotation_and_for_a_user_gone_inactive() {
    let config = JwtConfig::simplejwt_guide(SECRET)
        .with_migration_mode(false)
        .with_rotation(false, false);
    let app = app(config).await;
    let pair = app.jwt.login("alice", "wonderland-42").await.unwrap();
    let refreshed = app.jwt.refresh(&pair.refresh.token).await.unwrap();
    assert!(refreshed.refresh.is_none());
    assert!(app.jwt.refresh(&pair.refresh.token).await.is_ok());

    // A token naming a user who cannot log in any more.
    let stale = app.jwt.codec().mint_pair("2", &Default::default()).unwrap();
    assert!(matches!(
        app.jwt.refresh(&stale.refresh.token).await,
        Err(LifecycleError::InactiveSubject)
    ));
}

#[tokio::test]
async fn verify_checks_the_store_for_refresh_tokens_only() {
    let app = guide().await;
    let pair = app.jwt.login("alice", "wonderland-42").await.unwrap();
    let claims = app.jwt.verify(&pair.access.token).await.unwrap();
    assert_eq!(claims, pair.access.claims);
    assert_eq!(
        app.jwt.verify(&pair.refresh.token).await.unwrap(),
        pair.refresh.claims
    );
    app.jwt.refresh(&pair.refresh.token).await.unwrap();
    assert!(is_blacklisted(app.jwt.verify(&pair.refresh.token).await));
    // The access token is not looked up: it stays valid until it expires.
    assert!(app.jwt.verify(&pair.access.token).await.is_ok());
    app.clock.advance(Duration::from_secs(2 * 3600 + 1));
    assert!(matches!(
        app.jwt.verify(&pair.access.token).await,
        Err(LifecycleError::Token(TokenError::Expired))
    ));
}

#[tokio::test]
async fn blacklist_logs_one_family_out() {
    let app = guide().await;
    let laptop = app.jwt.login("alice", "wonderland-42").await.unwrap();
    let phone = app.jwt.login("alice", "wonderland-42").await.unwrap();
    app.jwt.blacklist(&laptop.refresh.token).await.unwrap();
    assert!(is_blacklisted(app.jwt.refresh(&laptop.refresh.token).await));
    assert!(is_blacklisted(
        app.jwt.blacklist(&laptop.refresh.token).await
    ));
    assert!(matches!(
        app.jwt.blacklist(&laptop.access.token).await,
        Err(LifecycleError::Token(TokenError::WrongType))
    ));
    assert!(
        app.jwt.refresh(&phone.refresh.token).await.is_ok(),
        "another device"
    );
}

#[tokio::test]
async fn revoke_subject_ends_every_family_of_the_user() {
    let app = guide().await;
    let laptop = app.jwt.login("alice", "wonderland-42").await.unwrap();
    let phone = app.jwt.login("alice", "wonderland-42").await.unwrap();
    let rotated = app.jwt.refresh(&phone.refresh.token).await.unwrap();
    let other = app
        .jwt
        .issue_for(&Subject::new("3", "bob", true))
        .await
        .unwrap();

    assert!(app.jwt.revoke_subject("1").await.unwrap() >= 2);
    assert!(is_blacklisted(app.jwt.refresh(&laptop.refresh.token).await));
    assert!(is_blacklisted(
        app.jwt.refresh(&rotated.refresh.unwrap().token).await
    ));
    assert!(
        app.jwt.refresh(&other.refresh.token).await.is_ok(),
        "bob is untouched"
    );
}

/// Two servers share the store; the second one's clock is 2 s behind. A
/// replay within the window served by it gets the successor the first one
/// minted, although that token's `iat` is in its future.
#[tokio::test]
async fn a_replay_on_a_server_whose_clock_is_behind_gets_the_successor() {
    let config = JwtConfig::simplejwt_guide(SECRET)
        .with_migration_mode(false)
        .with_reuse(Duration::from_secs(10), ReusePolicy::RevokeFamily);
    let ahead = app(config.clone()).await;
    let hasher = PasswordHasher::default();
    let users = MemoryUserStore::new();
    users
        .create("alice", &hasher.hash("x").unwrap(), true)
        .await
        .unwrap();
    let behind = Jwt::builder(config)
        .shared_token_store(ahead.store.clone())
        .authenticator(PasswordAuthenticator::new(users, hasher))
        .clock(Arc::new(ManualClock::new(NOW + 58)))
        .build()
        .unwrap();

    let pair = ahead.jwt.login("alice", "wonderland-42").await.unwrap();
    ahead.clock.advance(Duration::from_secs(60));
    let first = ahead.jwt.refresh(&pair.refresh.token).await.unwrap();
    let replayed = behind.refresh(&pair.refresh.token).await.unwrap();
    let (first, replayed) = (first.refresh.unwrap(), replayed.refresh.unwrap());
    assert_eq!(replayed.token, first.token);
    assert_eq!(replayed.claims.iat, Some(NOW + 60));
}

#[tokio::test]
async fn a_subject_without_an_id_is_refused() {
    let app = guide().await;
    assert!(matches!(
        app.jwt.issue_for(&Subject::new("", "nobody", true)).await,
        Err(LifecycleError::EmptySubjectId)
    ));
    assert!(matches!(
        app.jwt.revoke_subject("").await,
        Err(LifecycleError::EmptySubjectId)
    ));
}

#[tokio::test]
async fn refresh_returns_the_user_it_read() {
    let app = guide().await;
    let pair = app.jwt.login("alice", "wonderland-42").await.unwrap();
    let refreshed = app.jwt.refresh(&pair.refresh.token).await.unwrap();
    let subject = refreshed.subject.expect("the token names a user");
    assert_eq!(
        (subject.id.as_str(), subject.username.as_str()),
        ("1", "alice")
    );
}
