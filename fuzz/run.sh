#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) with its seeds and the
# JWT dictionary, and prints the executions of each run. Fails on a crash.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]; FUZZ_TARGET_DIR moves the build
# out of fuzz/target (CI keeps it in its cache).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(token_verify differential authorization_header endpoint_bodies django_hash)
target_dir=()
[ -z "${FUZZ_TARGET_DIR:-}" ] || target_dir=(--target-dir "$FUZZ_TARGET_DIR")
cargo +nightly fuzz build "${target_dir[@]}"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  if ! cargo +nightly fuzz run "${target_dir[@]}" "$target" "corpus/$target" "seeds/$target" -- \
      -dict=dict/jwt.dict -max_len=4096 -rss_limit_mb=2048 -max_total_time="$seconds" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target crashed" >&2
    exit 1
  fi
  runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)
  echo "$target: ${runs:-no summary} (${seconds} s)"
  rm -f "$log"
done
