#!/usr/bin/env bash
# What running streams side by side buys: `daydream build` of a scripted 4-stream feature (contracts -> backend +
# frontend -> tests) on a small pytest project, with a stand-in `claude` whose every stream call sleeps SLEEP
# seconds before writing its file. Prints, from `data/builds.jsonl`, the total wall time, the streams' wall
# time and the serial estimate (the streams' times added up), with --streams 4 and with --streams 1 (the
# streams really one after another), and the speedup.
#
# Usage: tests/bench/build.sh [SLEEP]   (default 2 s per stream; uses bwrap when installed; a debug build is
# enough: the sleeps dominate)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
sleep_s="${1:-2}"
cargo build --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/debug/daydream"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/root/config" "$work/stand-in" "$work/shop/app" "$work/shop/tests"
cd "$work/shop"
: > app/__init__.py
printf 'def test_base():\n    assert True\n' > tests/test_base.py
printf '__pycache__/\n.pytest_cache/\n' > .gitignore
git init -q -b main && git add . && git -c user.name=b -c user.email=b@b commit -qm start
cat > "$work/root/config/projects.json" <<JSON
{"projects": {"shop": {"working_directory": "$work/shop", "test_command": "python3 -m pytest -q -p no:cacheprovider"}}}
JSON
printf '# Cart export\n\nPrices from a contract, totals, labels, tests.\n' > "$work/cart-export.md"
cat > "$work/stand-in/manifest.json" <<'JSON'
{"streams": [
  {"id": "contracts", "task": "the price contract", "owns": ["app/contracts.py"], "after": []},
  {"id": "backend", "task": "totals", "owns": ["app/backend.py"], "after": ["contracts"]},
  {"id": "frontend", "task": "labels", "owns": ["app/frontend.py"], "after": ["contracts"]},
  {"id": "tests", "task": "tests", "owns": ["tests/test_export.py"], "after": ["backend", "frontend"]}
]}
JSON
printf "printf 'PRICE = 3\\\\n' > app/contracts.py\n" > "$work/stand-in/contracts.sh"
printf "printf 'from app.contracts import PRICE\\\\ndef total(n):\\\\n    return n * PRICE\\\\n' > app/backend.py\n" > "$work/stand-in/backend.sh"
printf "printf 'from app.contracts import PRICE\\\\ndef label(n):\\\\n    return str(n) + \" x \" + str(PRICE)\\\\n' > app/frontend.py\n" > "$work/stand-in/frontend.sh"
printf "printf 'from app.backend import total\\\\nfrom app.frontend import label\\\\ndef test_both():\\\\n    assert total(2) == 6 and label(2) == \"2 x 3\"\\\\n' > tests/test_export.py\n" > "$work/stand-in/tests.sh"
cat > "$work/stand-in/claude" <<SH
#!/bin/sh
prompt=\$(cat)
case "\$*" in *--json-schema*)
  printf '{"type":"result","subtype":"success","is_error":false,"result":"","structured_output":%s,"total_cost_usd":0.01,"num_turns":1,"session_id":"s","permission_denials":[]}\n' "\$(cat $work/stand-in/manifest.json)"
  exit 0;;
esac
id=\$(printf '%s\n' "\$prompt" | sed -n 's/^You are stream \`\(.*\)\`\.\$/\1/p')
sleep $sleep_s
[ -f "$work/stand-in/\$id.sh" ] && sh "$work/stand-in/\$id.sh"
printf '{"type":"result","subtype":"success","is_error":false,"result":"did %s","total_cost_usd":0.02,"num_turns":1,"session_id":"s","permission_denials":[]}\n' "\$id"
SH
chmod +x "$work/stand-in/claude"

for streams in 4 1; do
  DAYDREAM_CLAUDE="$work/stand-in/claude" "$bin" --root "$work/root" build "$work/cart-export.md" \
    --project shop --streams "$streams" > "$work/out-$streams.txt" 2>/dev/null || {
    cat "$work/out-$streams.txt"; echo "the build failed with --streams $streams" >&2; exit 1; }
done

echo "--- the summary of the --streams 4 build:"
cat "$work/out-4.txt"
echo "---"
python3 - "$work/root/data/builds.jsonl" "$sleep_s" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert [r["outcome"] for r in rows] == ["landed", "landed"], rows
par, ser = rows
print(f"4 streams, each model call sleeping {sys.argv[2]} s; both builds landed")
for name, r in (("--streams 4", par), ("--streams 1", ser)):
    print(f"{name}: total wall {r['wall_secs']:.2f} s (streams {r['streams_wall_secs']:.2f} s, "
          f"integration {r['wall_secs'] - r['streams_wall_secs']:.2f} s); serial estimate {r['serial_secs']:.2f} s; "
          f"speedup of the streams {r['serial_secs'] / r['streams_wall_secs']:.2f}x")
print(f"side by side vs really one after another: {par['wall_secs']:.2f} s vs {ser['wall_secs']:.2f} s "
      f"({ser['wall_secs'] / par['wall_secs']:.2f}x)")
PY
