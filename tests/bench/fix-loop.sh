#!/usr/bin/env bash
# What the fix loop itself costs per attempt, apart from the model and the tests: `daydream fix` on a git
# project whose test (`sh test.sh`, a few ms) keeps failing, with a stand-in `claude` that edits one file and
# answers at once, so every attempt goes through the worktree, the diff guard, the confined test run, the
# whole-suite run, the revert and the record. Prints the attempts' mean and p50 wall time, the time of the two
# test runs an attempt makes and of the stand-in, and what is left: the loop's overhead per attempt.
#
# Usage: tests/bench/fix-loop.sh [ROUNDS]   (default 5 rounds of 3 attempts; uses bwrap when installed)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rounds="${1:-5}"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/daydream"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/root/config" "$work/root/bin" "$work/shop"
cd "$work/shop"
printf 'add() {\n    echo $(($1 - $2))\n}\n' > calc.sh
printf '. ./calc.sh\nout=$(add 2 3)\n[ "$out" = 5 ] || { echo "add 2 3 gave $out"; exit 1; }\n' > test.sh
git init -q -b main && git add . && git -c user.name=b -c user.email=b@b commit -qm start
cat > "$work/root/config/projects.json" <<JSON
{"projects": {"shop": {"working_directory": "$work/shop", "test_command": "sh test.sh"}}}
JSON
# The stand-in: appends a comment to calc.sh in its working directory (the worktree), so the diff is real and
# the test still fails, then prints Claude Code's result object.
cat > "$work/root/bin/claude" <<'SH'
#!/bin/sh
cat > /dev/null
echo "# tried $$" >> calc.sh
printf '{"type":"result","subtype":"success","is_error":false,"result":"tried","total_cost_usd":0.001,"num_turns":1,"session_id":"s","permission_denials":[]}\n'
SH
chmod +x "$work/root/bin/claude"

for _ in $(seq "$rounds"); do
  DAYDREAM_CLAUDE="$work/root/bin/claude" "$bin" --root "$work/root" fix --max-attempts 3 >/dev/null 2>&1 || true
done

# The parts that are not the loop, each measured 20 times: one run of the test, one of the stand-in.
python3 - "$work" > "$work/outside.txt" <<'PY'
import subprocess, sys, time
work = sys.argv[1]
def mean_ms(cmd):
    t = time.perf_counter()
    for _ in range(20):
        subprocess.run(cmd, shell=True, cwd=f"{work}/shop", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000 / 20
print(mean_ms("sh test.sh"), mean_ms(f"echo | {work}/root/bin/claude; git checkout -q calc.sh"))
PY
read -r test_ms stub_ms < "$work/outside.txt"

python3 - "$work/root/data/fix_attempts.jsonl" "$test_ms" "$stub_ms" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
attempts = [r["duration_secs"] * 1000 for r in rows if r["attempt"] > 0]
test_ms, stub_ms = float(sys.argv[2]), float(sys.argv[3])
mean, p50 = statistics.mean(attempts), statistics.median(attempts)
# An attempt that still fails runs the whole suite once (a whole-suite failure has no single test to rerun).
outside = test_ms + stub_ms
print(f"attempts measured: {len(attempts)} ({sorted(set(r['outcome'] for r in rows if r['attempt'] > 0))})")
print(f"attempt wall time: mean {mean:.0f} ms, p50 {p50:.0f} ms")
print(f"not the loop: the test {test_ms:.1f} ms unconfined, the stand-in model {stub_ms:.1f} ms")
print(f"loop overhead per attempt (git in the worktree, diff guard, sandbox start, parsing, record): ~{p50 - outside:.0f} ms (p50)")
PY
