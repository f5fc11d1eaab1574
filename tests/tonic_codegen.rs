//! The checked-in gRPC code of the tonic example is exactly what
//! tonic-prost-build makes of `examples/tonic/proto/greeter.proto` (compiled
//! with protox, so no `protoc` is needed). Regenerate with
//! `TOWER_SIMPLEJWT_UPDATE_GENERATED=1 cargo test --features tonic --test tonic_codegen`.
#![cfg(feature = "tonic")]

use std::path::Path;

#[test]
fn generated_code_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tonic");
    let descriptors = protox::compile([root.join("proto/greeter.proto")], [root.join("proto")])
        .expect("the proto compiles");
    let out = std::env::temp_dir().join(format!("tower-simplejwt-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .out_dir(&out)
        .compile_fds(descriptors)
        .expect("tonic-prost-build generates code");
    let generated = std::fs::read_to_string(out.join("greeter.v1.rs")).unwrap();
    let checked_in_path = root.join("greeter.v1.rs");
    if std::env::var_os("TOWER_SIMPLEJWT_UPDATE_GENERATED").is_some() {
        std::fs::write(&checked_in_path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&checked_in_path).unwrap_or_default();
    std::fs::remove_dir_all(&out).unwrap();
    assert!(
        checked_in == generated,
        "examples/tonic/greeter.v1.rs is stale: regenerate it (see this test's documentation)"
    );
}
