//! Verify and mint, ours against `jsonwebtoken` and `jwt-simple` in the same run.
//!
//! `cargo bench --bench verify`. Every implementation verifies the same
//! token of the contract's shape (`token_type`, `exp`, `iat`, `jti`,
//! `user_id`), minted by us, with signature and expiry checked.

use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion,
};
use jwt_simple::prelude::{ECDSAP256PublicKeyLike, EdDSAPublicKeyLike, MACLike, RSAPublicKeyLike};
use serde::{Deserialize, Serialize};
use tower_simplejwt::clock::SystemClock;
use tower_simplejwt::config::JwtConfig;
use tower_simplejwt::token::{Expected, TokenCodec, TokenKind};
use tower_simplejwt::Algorithm;

const SECRET: &str = "benchmark-secret-of-a-sensible-length";

#[derive(Debug, Serialize, Deserialize)]
struct ContractClaims {
    token_type: String,
    exp: u64,
    iat: u64,
    jti: String,
    user_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct JwtSimpleCustom {
    token_type: String,
    user_id: String,
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn codec(config: &JwtConfig) -> TokenCodec {
    TokenCodec::with_clock(config, Arc::new(SystemClock)).unwrap()
}

fn jsonwebtoken_validation(algorithm: Algorithm) -> jsonwebtoken::Validation {
    jsonwebtoken::Validation::new(algorithm)
}

/// Ours in a verify group: without the cache, and a repeated token with it.
fn verify_ours(
    group: &mut BenchmarkGroup<'_, WallTime>,
    uncached: &TokenCodec,
    cached: &TokenCodec,
    token: &str,
) {
    for (name, codec) in [("no cache", uncached), ("repeated token, cache", cached)] {
        group.bench_function(BenchmarkId::new("tower-simplejwt", name), |b| {
            b.iter(|| {
                codec
                    .verify(
                        std::hint::black_box(token),
                        Expected::Kind(TokenKind::Access),
                    )
                    .unwrap()
            })
        });
    }
}

fn hs256(c: &mut Criterion) {
    let ours = codec(&JwtConfig::simplejwt_guide(SECRET));
    let pair = ours.mint_pair("1", &serde_json::Map::new()).unwrap();
    let token = pair.access.token.clone();
    let decoding = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let encoding = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let validation = jsonwebtoken_validation(Algorithm::HS256);
    let simple = jwt_simple::prelude::HS256Key::from_bytes(SECRET.as_bytes());

    let mut uncached_config = JwtConfig::simplejwt_guide(SECRET);
    uncached_config.verified_token_cache_capacity = 0;
    let uncached = codec(&uncached_config);

    let mut group = c.benchmark_group("verify HS256");
    verify_ours(&mut group, &uncached, &ours, &token);
    // Every token new: the lookup misses, the signature is checked, the
    // token is remembered (a full shard is emptied now and then).
    group.bench_function(
        BenchmarkId::new("tower-simplejwt", "new token, cache"),
        |b| {
            b.iter_batched(
                || {
                    ours.mint_pair("1", &serde_json::Map::new())
                        .unwrap()
                        .access
                        .token
                },
                |token| {
                    ours.verify(&token, Expected::Kind(TokenKind::Access))
                        .unwrap()
                },
                BatchSize::SmallInput,
            )
        },
    );
    group.bench_function("jsonwebtoken::decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<ContractClaims>(
                std::hint::black_box(&token),
                &decoding,
                &validation,
            )
            .unwrap()
        })
    });
    group.bench_function("jwt-simple", |b| {
        b.iter(|| {
            simple
                .verify_token::<JwtSimpleCustom>(std::hint::black_box(&token), None)
                .unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("mint HS256 access token");
    group.bench_function("tower-simplejwt", |b| {
        b.iter(|| ours.mint_access_from(&pair.refresh.claims).unwrap())
    });
    let header = jsonwebtoken::Header::new(Algorithm::HS256);
    group.bench_function("jsonwebtoken::encode", |b| {
        b.iter(|| jsonwebtoken::encode(&header, &contract_claims(), &encoding).unwrap())
    });
    group.bench_function("jwt-simple", |b| {
        b.iter(|| simple.authenticate(jwt_simple_claims()).unwrap())
    });
    group.finish();
}

/// A token whose header is not byte for byte ours (a `kid`, a reordered
/// header, another issuer's tokens): its header goes through the JOSE
/// header rules before the key is chosen. Our own header, and
/// `jsonwebtoken::decode` on the same token, in the same run.
fn foreign_header(c: &mut Criterion) {
    use base64::Engine;
    let mut config = JwtConfig::simplejwt_guide(SECRET);
    config.verified_token_cache_capacity = 0;
    let ours = codec(&config);
    let own = ours
        .mint_pair("1", &serde_json::Map::new())
        .unwrap()
        .access
        .token;
    let payload = own.split('.').nth(1).unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"typ":"JWT","alg":"HS256","kid":"2026-11"}"#);
    let message = format!("{header}.{payload}");
    let encoding = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &encoding, Algorithm::HS256).unwrap();
    let foreign = format!("{message}.{signature}");
    let decoding = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let validation = jsonwebtoken_validation(Algorithm::HS256);

    let mut group = c.benchmark_group("verify HS256, header not ours");
    for (name, token) in [("own header", &own), ("header rules", &foreign)] {
        group.bench_function(BenchmarkId::new("tower-simplejwt", name), |b| {
            b.iter(|| {
                ours.verify(
                    std::hint::black_box(token),
                    Expected::Kind(TokenKind::Access),
                )
                .unwrap()
            })
        });
    }
    group.bench_function("jsonwebtoken::decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<ContractClaims>(
                std::hint::black_box(&foreign),
                &decoding,
                &validation,
            )
            .unwrap()
        })
    });
    group.finish();

    if std::env::args().any(|arg| arg == "--test") {
        return;
    }
    let access = Expected::Kind(TokenKind::Access);
    let through_rules = || {
        ours.verify(std::hint::black_box(&foreign), access).unwrap();
    };
    paired(
        "verify HS256, header through the rules ÷ own header",
        through_rules,
        || {
            ours.verify(std::hint::black_box(&own), access).unwrap();
        },
    );
    paired(
        "verify HS256, header through the rules ÷ jsonwebtoken::decode",
        through_rules,
        || {
            jsonwebtoken::decode::<ContractClaims>(
                std::hint::black_box(&foreign),
                &decoding,
                &validation,
            )
            .unwrap();
        },
    );
}

fn asymmetric(c: &mut Criterion) {
    for (algorithm, key) in [
        (Algorithm::ES256, "ec256"),
        (Algorithm::EdDSA, "ed25519"),
        (Algorithm::RS256, "rsa"),
    ] {
        let (private, public) = (
            fixture(&format!("{key}_private.pem")),
            fixture(&format!("{key}_public.pem")),
        );
        let config = JwtConfig::simplejwt_guide("unused").with_key_pair(
            algorithm,
            private.clone(),
            public.clone(),
        );
        let cached = codec(&config);
        let mut uncached_config = config.clone();
        uncached_config.verified_token_cache_capacity = 0;
        let uncached = codec(&uncached_config);
        let pair = cached.mint_pair("1", &serde_json::Map::new()).unwrap();
        let token = pair.access.token.clone();
        let decoding = match algorithm {
            Algorithm::ES256 => jsonwebtoken::DecodingKey::from_ec_pem(public.as_bytes()),
            Algorithm::EdDSA => jsonwebtoken::DecodingKey::from_ed_pem(public.as_bytes()),
            _ => jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes()),
        }
        .unwrap();
        let validation = jsonwebtoken_validation(algorithm);

        let mut group = c.benchmark_group(format!("verify {algorithm:?}"));
        verify_ours(&mut group, &uncached, &cached, &token);
        group.bench_function("jsonwebtoken::decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<ContractClaims>(
                    std::hint::black_box(&token),
                    &decoding,
                    &validation,
                )
                .unwrap()
            })
        });
        match algorithm {
            Algorithm::ES256 => {
                let key = jwt_simple::prelude::ES256KeyPair::from_pem(&private)
                    .unwrap()
                    .public_key();
                group.bench_function("jwt-simple", |b| {
                    b.iter(|| {
                        key.verify_token::<JwtSimpleCustom>(std::hint::black_box(&token), None)
                            .unwrap()
                    })
                });
            }
            Algorithm::EdDSA => {
                let key = jwt_simple::prelude::Ed25519KeyPair::from_pem(&private)
                    .unwrap()
                    .public_key();
                group.bench_function("jwt-simple", |b| {
                    b.iter(|| {
                        key.verify_token::<JwtSimpleCustom>(std::hint::black_box(&token), None)
                            .unwrap()
                    })
                });
            }
            _ => {
                let key = jwt_simple::prelude::RS256KeyPair::from_pem(&private)
                    .unwrap()
                    .public_key();
                group.bench_function("jwt-simple", |b| {
                    b.iter(|| {
                        key.verify_token::<JwtSimpleCustom>(std::hint::black_box(&token), None)
                            .unwrap()
                    })
                });
            }
        }
        group.finish();

        let mut group = c.benchmark_group(format!("mint {algorithm:?} access token"));
        group.bench_function("tower-simplejwt", |b| {
            b.iter(|| cached.mint_access_from(&pair.refresh.claims).unwrap())
        });
        let encoding = match algorithm {
            Algorithm::ES256 => jsonwebtoken::EncodingKey::from_ec_pem(private.as_bytes()),
            Algorithm::EdDSA => jsonwebtoken::EncodingKey::from_ed_pem(private.as_bytes()),
            _ => jsonwebtoken::EncodingKey::from_rsa_pem(private.as_bytes()),
        }
        .unwrap();
        let header = jsonwebtoken::Header::new(algorithm);
        group.bench_function("jsonwebtoken::encode", |b| {
            b.iter(|| jsonwebtoken::encode(&header, &contract_claims(), &encoding).unwrap())
        });
        match algorithm {
            Algorithm::ES256 => {
                let key = jwt_simple::prelude::ES256KeyPair::from_pem(&private).unwrap();
                group.bench_function("jwt-simple", |b| {
                    b.iter(|| {
                        jwt_simple::prelude::ECDSAP256KeyPairLike::sign(&key, jwt_simple_claims())
                            .unwrap()
                    })
                });
            }
            Algorithm::EdDSA => {
                let key = jwt_simple::prelude::Ed25519KeyPair::from_pem(&private).unwrap();
                group.bench_function("jwt-simple", |b| {
                    b.iter(|| {
                        jwt_simple::prelude::EdDSAKeyPairLike::sign(&key, jwt_simple_claims())
                            .unwrap()
                    })
                });
            }
            _ => {
                let key = jwt_simple::prelude::RS256KeyPair::from_pem(&private).unwrap();
                group.bench_function("jwt-simple", |b| {
                    b.iter(|| {
                        jwt_simple::prelude::RSAKeyPairLike::sign(&key, jwt_simple_claims())
                            .unwrap()
                    })
                });
            }
        }
        group.finish();
    }
}

/// The contract's access-token claims for jsonwebtoken, with a new `jti`.
fn contract_claims() -> ContractClaims {
    ContractClaims {
        token_type: "access".into(),
        exp: 1_900_000_000,
        iat: 1_800_000_000,
        jti: format!("{:032x}", rand::random::<u128>()),
        user_id: "1".into(),
    }
}

/// The same claims for jwt-simple (it adds `exp`, `iat` itself).
fn jwt_simple_claims() -> jwt_simple::prelude::JWTClaims<JwtSimpleCustom> {
    let custom = JwtSimpleCustom {
        token_type: "access".into(),
        user_id: "1".into(),
    };
    jwt_simple::prelude::Claims::with_custom_claims(
        custom,
        jwt_simple::prelude::Duration::from_hours(2),
    )
    .with_jwt_id(format!("{:032x}", rand::random::<u128>()))
}

/// A `Jwt` whose users, in memory, are alice (id 1), and an access token of hers.
fn alice(runtime: &tokio::runtime::Runtime) -> (tower_simplejwt::Jwt, String) {
    use tower_simplejwt::credentials::{
        MemoryUserStore, PasswordAuthenticator, PasswordHasher, UserStore,
    };
    let users = MemoryUserStore::new();
    runtime
        .block_on(users.create("alice", "unused", true))
        .unwrap();
    let jwt = tower_simplejwt::Jwt::builder(
        JwtConfig::simplejwt_guide(SECRET).with_migration_mode(false),
    )
    .authenticator(PasswordAuthenticator::new(users, PasswordHasher::default()))
    .build()
    .unwrap();
    let token = jwt
        .codec()
        .mint_pair("1", &serde_json::Map::new())
        .unwrap()
        .access
        .token;
    (jwt, token)
}

/// One request through `AuthLayer` (in-memory users) against the same inner service alone.
fn auth_layer(c: &mut Criterion) {
    use std::convert::Infallible;
    use tower::{Layer, Service, ServiceExt};
    use tower_simplejwt::AuthLayer;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (jwt, token) = alice(&runtime);
    let authorization = http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let inner = tower::service_fn(
        |_: http::Request<http_body_util::Empty<bytes::Bytes>>| async {
            Ok::<_, Infallible>(http::Response::new(
                http_body_util::Empty::<bytes::Bytes>::new(),
            ))
        },
    );
    let protected = AuthLayer::new(jwt).layer(inner);
    let request = || {
        let mut request = http::Request::new(http_body_util::Empty::new());
        request
            .headers_mut()
            .insert("authorization", authorization.clone());
        request
    };
    let mut group = c.benchmark_group("one request");
    group.bench_function("inner service alone", |b| {
        b.iter(|| runtime.block_on(inner.oneshot(request())).unwrap())
    });
    group.bench_function("through AuthLayer", |b| {
        b.iter(|| {
            let mut service = protected.clone();
            runtime.block_on(async move {
                service.ready().await.unwrap();
                service.call(request()).await.unwrap()
            })
        })
    });
    group.finish();
}

/// The load test's two routes, built once, and the request they get.
struct AxumRoutes {
    runtime: tokio::runtime::Runtime,
    open: axum::Router,
    protected: axum::Router,
    authorization: http::HeaderValue,
}

impl AxumRoutes {
    fn new() -> Self {
        use axum::routing::get;
        use axum::{Extension, Json, Router};
        use tower_simplejwt::credentials::Subject;
        use tower_simplejwt::AuthLayer;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (jwt, token) = alice(&runtime);
        // `with_state` turns the handlers into routes once, as `axum::serve`
        // does per connection.
        let open = Router::new()
            .route(
                "/api/me/",
                get(|| async { Json(serde_json::json!({"username": "alice"})) }),
            )
            .with_state(());
        let protected = Router::new()
            .route(
                "/api/me/",
                get(|Extension(subject): Extension<Subject>| async move {
                    Json(serde_json::json!({"username": subject.username}))
                }),
            )
            .layer(AuthLayer::new(jwt))
            .with_state(());
        AxumRoutes {
            runtime,
            open,
            protected,
            authorization: http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        }
    }

    /// Serves one request with `router`; it must answer 200.
    fn serve(&self, router: &axum::Router) {
        use tower::ServiceExt;
        let mut request = http::Request::get("/api/me/")
            .body(axum::body::Body::empty())
            .unwrap();
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, self.authorization.clone());
        let response = self
            .runtime
            .block_on(router.clone().oneshot(request))
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// The load test's routes without the network: one request through an axum
/// `Router`, unprotected and behind `AuthLayer`.
fn axum_route(c: &mut Criterion) {
    let routes = AxumRoutes::new();
    let mut group = c.benchmark_group("axum route");
    group.bench_function("unprotected", |b| b.iter(|| routes.serve(&routes.open)));
    group.bench_function("AuthLayer", |b| b.iter(|| routes.serve(&routes.protected)));
    group.finish();
}

/// Ratios of paired measurements: `ours` and `theirs` run alternately in
/// short batches, and the median of the batches' time ratios is reported
/// with its quartiles. On a shared machine whose speed drifts over seconds,
/// criterion's one-after-the-other groups can move a ratio by ±20%; pairs
/// taken milliseconds apart do not drift apart.
fn paired(name: &str, mut ours: impl FnMut(), mut theirs: impl FnMut()) {
    use std::time::Instant;
    const BATCH: u32 = 2_000;
    const PAIRS: usize = 301;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        start.elapsed().as_secs_f64() / f64::from(BATCH)
    };
    for _ in 0..20 {
        time(&mut ours);
        time(&mut theirs);
    }
    let mut ratios = Vec::with_capacity(PAIRS);
    let (mut ours_total, mut theirs_total) = (0.0, 0.0);
    for _ in 0..PAIRS {
        let (a, b) = (time(&mut ours), time(&mut theirs));
        ours_total += a;
        theirs_total += b;
        ratios.push(a / b);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "paired: {name}: median ratio {:.3} (quartiles {:.3}–{:.3}); means {:.0} ns / {:.0} ns",
        ratios[PAIRS / 2],
        ratios[PAIRS / 4],
        ratios[3 * PAIRS / 4],
        ours_total / PAIRS as f64 * 1e9,
        theirs_total / PAIRS as f64 * 1e9,
    );
}

/// The goals' ratios, each from paired measurements (see [`paired`]); run
/// unless a filter that does not mention "paired" is given, or in test mode.
fn paired_ratios(_: &mut Criterion) {
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let test_mode = std::env::args().any(|arg| arg == "--test");
    if test_mode || filter.is_some_and(|filter| !filter.contains("paired")) {
        return;
    }
    let ours = codec(&JwtConfig::simplejwt_guide(SECRET));
    let mut uncached_config = JwtConfig::simplejwt_guide(SECRET);
    uncached_config.verified_token_cache_capacity = 0;
    let uncached = codec(&uncached_config);
    let token = ours
        .mint_pair("1", &serde_json::Map::new())
        .unwrap()
        .access
        .token;
    let decoding = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let validation = jsonwebtoken_validation(Algorithm::HS256);
    let access = Expected::Kind(TokenKind::Access);
    let jsonwebtoken = || {
        jsonwebtoken::decode::<ContractClaims>(
            std::hint::black_box(&token),
            &decoding,
            &validation,
        )
        .unwrap();
    };
    paired(
        "verify HS256, no cache ÷ jsonwebtoken::decode",
        || {
            uncached
                .verify(std::hint::black_box(&token), access)
                .unwrap();
        },
        jsonwebtoken,
    );
    let routes = AxumRoutes::new();
    paired(
        "one request through axum: AuthLayer ÷ unprotected",
        || routes.serve(&routes.protected),
        || routes.serve(&routes.open),
    );
    paired(
        "verify HS256, repeated token with the cache ÷ jsonwebtoken::decode",
        || {
            ours.verify(std::hint::black_box(&token), access).unwrap();
        },
        jsonwebtoken,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = paired_ratios, hs256, foreign_header, asymmetric, auth_layer, axum_route
}
criterion_main!(benches);
