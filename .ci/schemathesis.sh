#!/usr/bin/env bash
# Schemathesis against the example server: every answer to generated requests
# (valid and invalid) is no 5xx and matches the OpenAPI document the server
# publishes at /api/schema/.
#
#   .ci/schemathesis.sh SERVER_BINARY [SERVER_OPTION...]
#
# Starts SERVER_BINARY on a free port of 127.0.0.1 with a new SQLite database
# holding one user, logs in for an access token (sent on every request, so
# that GET /api/me/ is tested past authentication), and runs the checks
# "not a server error" and "response conforms to schema". SERVER_OPTIONs
# (e.g. --cookies) are passed to the server. Exits non-zero if
# the binary is missing, the server does not come up, or any check fails.
# SCHEMATHESIS_SEED changes the seed (the default keeps runs reproducible). One
# worker: with two, Hypothesis (under Python 3.11) sometimes fails on its own
# ("AST constructor recursion depth mismatch"), not on the server.
set -euo pipefail

binary=${1:?usage: .ci/schemathesis.sh SERVER_BINARY [SERVER_OPTION...]}
shift
[ -x "$binary" ] || { echo "schemathesis: no server binary at $binary" >&2; exit 1; }

venv=/var/cache/tower-simplejwt/schemathesis
version=4.32.5
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
database="sqlite://$work/users.sqlite3"
secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

"$binary" createuser alice --password wonderland-42 --database "$database" >/dev/null
"$binary" --listen "127.0.0.1:$port" --database "$database" --secret "$secret" "$@" \
  >"$work/server.log" 2>&1 &
server_pid=$!

access=$(python3 - "$base" "$server_pid" <<'EOF'
import json, os, sys, time, urllib.request

base, pid = sys.argv[1], int(sys.argv[2])
login = json.dumps({"username": "alice", "password": "wonderland-42"}).encode()
for _ in range(300):
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("schemathesis: the server exited before answering")
    try:
        request = urllib.request.Request(base + "/api/token/", data=login,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            print(json.load(response)["access"])
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("schemathesis: the server did not answer within 30 s")
EOF
) || { cat "$work/server.log" >&2; exit 1; }

# From the temporary folder: Schemathesis keeps a cache in its working directory.
status=0
(cd "$work" && "$venv/bin/st" run "$base/api/schema/" \
  --checks not_a_server_error,response_schema_conformance \
  --header "Authorization: Bearer $access" \
  --max-examples 100 \
  --seed "${SCHEMATHESIS_SEED:-20}" \
  --workers 1 \
  --request-timeout 10 \
  --warnings off) \
  || status=$?
kill -0 "$server_pid" 2>/dev/null || { echo "schemathesis: the server died during the run" >&2; status=1; }
if [ "$status" -ne 0 ]; then
  echo "schemathesis: failed (exit $status); the server's log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
