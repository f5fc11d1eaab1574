#!/bin/sh
# Load test of the example server: builds its release binary, then runs the
# load bench against it (GET /api/me/ behind AuthLayer, its unprotected
# twin and its plain-jsonwebtoken twin, with and without --user-cache).
# Arguments: [SECONDS CONNECTIONS ROUNDS], as for `cargo bench --bench load`.
# Needs wrk (apt-get install wrk) and, for pinning, taskset (util-linux).
set -eu
cd "$(dirname "$0")/.."
cargo build --release --example server
exec cargo bench --bench load -- --example-server "$@"
