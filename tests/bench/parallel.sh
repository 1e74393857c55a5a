#!/usr/bin/env bash
# `run --jobs` and the state journal: 12 projects against a fake GitHub answering in 150 ms with --jobs 1 and
# --jobs 8 (the tasks and report steps call `gh` for real), and cleanup + logs on 20 and 200 projects (the
# cost of saving the state after every unit). Prints wall times, their ratios and the peak RSS of each run.
#
# Usage: tests/bench/parallel.sh    (needs gh and /usr/bin/time)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
cargo test --release --locked --test integration -- --ignored --nocapture --test-threads 1 parallel::bench_ 2>&1 \
  | sed -e 's/^test parallel::[a-z_]* \.\.\. //' | grep -E 'projects|--jobs'

