#!/usr/bin/env bash
# Benchmark (not a test): time and peak memory of `daydream run` (all steps) over a project with a generated log file.
# Usage: tests/bench/logs-1gb.sh [SIZE_MB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb="${1:-1024}"
cargo build --release --locked --quiet
bin="$PWD/target/release/daydream"
work="$(mktemp -d "${TMPDIR:-/tmp}/daydream-bench-XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/config" "$work/projects/big/logs"
printf '{"projects": {"big": {"working_directory": "projects/big"}}}\n' > "$work/config/projects.json"
python3 tests/bench/gen_log.py "$size_mb" > "$work/projects/big/logs/app.log"
ls -l "$work/projects/big/logs/app.log" | awk '{printf "log file: %.1f MB\n", $5/1e6}'
export TZ=UTC DAYDREAM_NOW=2026-11-21T06:00:00+00:00
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$bin" run --root "$work" 2> "$work/time.txt"
  grep -E 'Elapsed \(wall clock\)|Maximum resident set size' "$work/time.txt"
else
  time "$bin" run --root "$work"
fi
