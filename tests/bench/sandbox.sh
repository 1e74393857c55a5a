#!/usr/bin/env bash
# What the sandbox of model-edited code costs: one command run unconfined, in bubblewrap and under Landlock
# (through `daydream __confine`), 100 times each, interleaved; prints mean, p50, p95 and the time added.
#
# Usage: tests/bench/sandbox.sh   (needs `bwrap` for the bubblewrap row, a kernel with Landlock for the other)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cargo build --release --manifest-path "$repo/Cargo.toml"
DAYDREAM_BIN="$repo/target/release/daydream" \
  cargo test --release --manifest-path "$repo/Cargo.toml" --lib sandbox_overhead -- --ignored --nocapture --test-threads 1 \
  | grep -E '^(`|  )'
