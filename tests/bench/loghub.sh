#!/usr/bin/env bash
# Builds the release binary and scores `daydream mine` on Loghub-2k next to Drain3: accuracy on message content,
# accuracy on raw lines (`--raw`), and throughput on 2,000,000 sampled messages.
#
# Usage: tests/bench/loghub.sh [BENCH_DIR]
#   BENCH_DIR holds loghub_eval.py [default: ../shared/bench next to the repo]; its data come from
#   BENCH_DIR/../data/loghub-2k unless LOGHUB_DATA is set. Needs python3 and `pip install drain3`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bench="${1:-$repo/../shared/bench}"
eval_py="$bench/loghub_eval.py"
[[ -f "$eval_py" ]] || { echo "failed to find \`$eval_py\`: pass the directory holding loghub_eval.py" >&2; exit 2; }
data=(); [[ -n "${LOGHUB_DATA:-}" ]] && data=(--data "$LOGHUB_DATA")
cargo build --release --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/daydream"
echo "== accuracy on message content"
python3 "$eval_py" "${data[@]}" --cmd "$bin mine" --drain3
echo "== accuracy on raw lines"
python3 "$eval_py" "${data[@]}" --cmd "$bin mine --raw" --raw
echo "== throughput"
python3 "$eval_py" "${data[@]}" --cmd "$bin mine" --drain3 --throughput 2000000
