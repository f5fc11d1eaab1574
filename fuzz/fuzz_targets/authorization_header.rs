//! The Authorization header parser, through the real AuthLayer: any header
//! bytes get 200 or the contract's 401, never a panic or another status.
#![no_main]

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::AuthLayer;
use tower_simplejwt_fuzz::{JWT, RUNTIME};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let service = AuthLayer::new(JWT.clone()).layer(service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    }));
    let request = Request::get("/api/me/").header("authorization", value).body(Full::new(Bytes::new())).unwrap();
    let response = RUNTIME.block_on(service.oneshot(request)).unwrap();
    assert!(matches!(response.status().as_u16(), 200 | 401), "status {}", response.status());
});
