//! Each token endpoint's body parser, through the real endpoint service:
//! any body under any of the content types gets a 2xx/4xx in the contract's
//! shape, never a panic or a 5xx.
#![no_main]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use tower::{service_fn, Layer, ServiceExt};
use tower_simplejwt::http::TokenEndpointsLayer;
use tower_simplejwt_fuzz::{JWT, RUNTIME};

const PATHS: [&str; 4] = ["/api/token/", "/api/token/refresh/", "/api/token/verify/", "/api/token/blacklist/"];
const TYPES: [&str; 4] = ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(selector & 3)];
    let content_type = TYPES[usize::from((selector >> 2) & 3)];
    let service = TokenEndpointsLayer::new(JWT.clone()).layer(service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    }));
    let request = Request::post(path)
        .header("content-type", content_type)
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let response = RUNTIME.block_on(service.oneshot(request)).unwrap();
    let status = response.status().as_u16();
    assert!((200..500).contains(&status), "status {status}");
    let bytes = RUNTIME.block_on(response.into_body().collect()).unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON body");
    assert!(json.is_object(), "an object body");
});
