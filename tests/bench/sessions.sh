#!/usr/bin/env bash
# Benchmark (not a test): `daydream sessions` over about SIZE_MB of generated Claude Code transcripts (default
# 1024): wall time, MB/s of the transcripts it read, peak memory. A tenth of the files belong to another project
# and a tenth were last written a month before the window (not opened), as on a real machine.
# Usage: tests/bench/sessions.sh [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb="${1:-1024}"
cargo build --release --locked --quiet
bin="$PWD/target/release/daydream"
work="$(mktemp -d "${TMPDIR:-/tmp}/daydream-bench-XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/config" "$work/projects/big"
printf '{"projects": {"big": {"working_directory": "projects/big"}}}\n' > "$work/config/projects.json"
python3 tests/bench/gen_sessions.py "$work/claude" "$work/projects/big" "$size_mb"
du -sm "$work/claude/projects" | awk '{printf "transcripts on disk: %d MB\n", $1}'
export TZ=UTC DAYDREAM_NOW=2026-11-21T06:00:00+00:00 CLAUDE_CONFIG_DIR="$work/claude"
sync
start=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$bin" sessions --root "$work" --json > "$work/out.json" 2> "$work/time.txt"
else
  "$bin" sessions --root "$work" --json > "$work/out.json"
fi
end=$(date +%s.%N)
python3 - "$work/out.json" "$start" "$end" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))[0]
secs = float(sys.argv[3]) - float(sys.argv[2])
mb = data["files"]["bytes"] / 1e6
print(f"read {data['files']['read']} transcripts ({mb:.0f} MB), skipped {data['files']['skipped_old']} older ones")
print(f"sessions {data['sessions']}, tool calls {data['tool_calls']}, tool errors {data['tool_errors']}, thrash loops {data['thrash_loops']}")
print(f"time {secs:.2f} s, {mb / secs:.0f} MB/s")
PY
if [ -f "$work/time.txt" ]; then grep -E 'Maximum resident set size' "$work/time.txt"; fi
