#!/usr/bin/env bash
# Benchmark (not a test): throughput of `daydream mine` on lines that never repeat (the exact-line cache cannot
# help), next to `wc -l` on the same file and Drain3 (its defaults, in-process, no output) on the same lines.
#
# Usage: tests/bench/mine_speed.sh [LINES] [BENCH_DIR]
#   LINES   how many distinct lines to draw from Loghub-2k [default 400000]
#   BENCH_DIR holds loghub_eval.py, its data in BENCH_DIR/../data/loghub-2k unless LOGHUB_DATA is set
#   [default: ../shared/bench next to the repo]. Needs python3; `pip install drain3` for the ratio.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
lines="${1:-400000}"
bench="${2:-$repo/../shared/bench}"
data="${LOGHUB_DATA:-$bench/../data/loghub-2k}"
[[ -d "$data" ]] || { echo "failed to find \`$data\`: set LOGHUB_DATA or pass BENCH_DIR" >&2; exit 2; }
cargo build --release --locked --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/daydream"
work="$(mktemp -d "${TMPDIR:-/tmp}/daydream-speed-XXXXXX")"
trap 'rm -rf "$work"' EXIT
python3 "$repo/tests/bench/unique_lines.py" "$data" "$lines" > "$work/lines.txt"
bytes=$(wc -c < "$work/lines.txt")
# The best of three runs, so a busy machine costs less.
best() {
  local best=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    best=$(python3 -c "import sys; t = $end - $start; b = '$best'; print(t if not b else min(t, float(b)))")
  done
  echo "$best"
}
mine=$(best "$bin" mine "$work/lines.txt")
wc=$(best wc -l "$work/lines.txt")
python3 - "$bytes" "$lines" "$mine" "$wc" "$work/lines.txt" <<'PY'
import sys, time
size, n, mine, wc, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
mb = size / 1e6
print(f"{n} distinct lines, {mb:.1f} MB")
print(f"daydream mine: {mine:.3f} s  {mb / mine:7.1f} MB/s (process start, reading and JSON output included)")
print(f"wc -l:         {wc:.3f} s  {mb / wc:7.1f} MB/s")
try:
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig
except ImportError:
    sys.exit("drain3: not installed (pip install drain3), no ratio")
config = TemplateMinerConfig()
config.profiling_enabled = False
lines = open(path, encoding="utf-8").read().splitlines()
# The best of three runs too, each with a fresh miner, so the ratio compares like with like.
drain = None
for _ in range(3):
    miner = TemplateMiner(config=config)
    start = time.perf_counter()
    for line in lines:
        miner.add_log_message(line)
    took = time.perf_counter() - start
    drain = took if drain is None else min(drain, took)
print(f"drain3:        {drain:.3f} s  {mb / drain:7.1f} MB/s (in-process, no output, best of three)")
print(f"daydream mine is {drain / mine:.1f}x Drain3")
PY
