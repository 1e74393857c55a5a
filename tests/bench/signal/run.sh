#!/usr/bin/env bash
# Signal bench: downloads a few real projects of different ecosystems from the package registries, runs the
# cleanup and docs steps over them (dry run: nothing in the projects is removed), and prints one finding a line
# for labelling:
#
#   project <TAB> kind <TAB> file:line <TAB> what
#
# Kinds: `todo`, `commented_out`, `deprecated` (cleanup) and the docs kinds (`broken_link`, `command`,
# `missing_path`, `env_var`, `stale`, `orphan`). Each step lists a bounded number of findings per unit (cleanup 50
# of each kind, docs 100 in all), so a project with more is measured on the ones listed.
# `precision.py` joins that output with `labels.tsv` (the same key, then true/false and why) and prints the
# precision per kind.
#
# Usage: tests/bench/signal/run.sh [BINARY] > findings.tsv
#   BINARY defaults to target/debug/daydream (built when missing). Downloads are cached in
#   ${DAYDREAM_SIGNAL_CACHE:-~/.cache/daydream-signal}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
bin="${1:-$repo/target/debug/daydream}"
if [ ! -x "$bin" ]; then
  cargo build --quiet --manifest-path "$repo/Cargo.toml"
fi
cache="${DAYDREAM_SIGNAL_CACHE:-$HOME/.cache/daydream-signal}"
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# name, ecosystem, archive URL, the folder the archive unpacks to, deprecated patterns (JSON list).
projects=(
  'attrs|pypi|https://files.pythonhosted.org/packages/source/a/attrs/attrs-25.3.0.tar.gz|attrs-25.3.0|["attr\\.ib\\(", "\\bcmp=", "datetime\\.utcnow\\("]'
  'starlette|pypi|https://files.pythonhosted.org/packages/source/s/starlette/starlette-0.46.2.tar.gz|starlette-0.46.2|["\\bon_startup\\b", "\\.on_event\\(", "add_event_handler\\(", "asyncio\\.get_event_loop\\("]'
  'fastify|npm|https://registry.npmjs.org/fastify/-/fastify-5.3.3.tgz|package|["new Buffer\\(", "\\.substr\\(", "url\\.parse\\(", "process\\.binding\\("]'
  'express|npm|https://registry.npmjs.org/express/-/express-5.1.0.tgz|package|["url\\.parse\\(", "req\\.param\\(", "\\.substr\\(", "new Buffer\\("]'
  'clap|crates.io|https://static.crates.io/crates/clap/clap-4.5.20.crate|clap-4.5.20|["\\btry!\\(", "lazy_static!", "once_cell", "\\.description\\(\\)"]'
  # Held out: added after the fixes, to see whether they hold on projects they were not tuned on.
  'httpx|pypi|https://files.pythonhosted.org/packages/source/h/httpx/httpx-0.28.1.tar.gz|httpx-0.28.1|["typing\\.Optional\\b", "asyncio\\.get_event_loop\\(", "datetime\\.utcnow\\("]'
  'structlog|pypi|https://files.pythonhosted.org/packages/source/s/structlog/structlog-25.4.0.tar.gz|structlog-25.4.0|["typing\\.Optional\\b", "asyncio\\.get_event_loop\\(", "datetime\\.utcnow\\("]'
  'ws|npm|https://registry.npmjs.org/ws/-/ws-8.18.0.tgz|package|["new Buffer\\(", "\\.substr\\(", "url\\.parse\\(", "util\\.inherits\\("]'
  'tokio|crates.io|https://static.crates.io/crates/tokio/tokio-1.41.0.crate|tokio-1.41.0|["\\btry!\\(", "mem::uninitialized", "\\.description\\(\\)", "lazy_static!"]'
)

mkdir -p "$work/root/config"
config="$work/root/config/projects.json"
printf '{"projects": {' > "$config"
sep=""
for entry in "${projects[@]}"; do
  IFS='|' read -r name eco url folder patterns <<< "$entry"
  archive="$cache/$(basename "$url")"
  [ -s "$archive" ] || curl -sSfL "$url" -o "$archive"
  mkdir -p "$work/src/$name"
  tar xzf "$archive" -C "$work/src/$name"
  dir="$work/src/$name/$folder"
  # A registry archive has no history: one commit, so the steps see a git work tree (staleness then has
  # nothing to say, which is the truth of a single commit).
  git -C "$dir" init -q -b main
  git -C "$dir" add -A
  git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -qm "$name from $eco" --no-verify
  printf '%s"%s": {"working_directory": "%s", "deprecated_patterns": %s}' "$sep" "$name" "$dir" "$patterns" >> "$config"
  sep=", "
done
printf '}}\n' >> "$config"

DAYDREAM_NOW="2026-12-01T06:00:00Z" "$bin" --root "$work/root" run --dry-run --step cleanup --step docs > "$work/run.log" 2>&1 || {
  echo "daydream failed:" >&2; cat "$work/run.log" >&2; exit 1; }
python3 "$here/findings.py" "$work/root/logs/daydream/state.dry-run.json" "$work/src"
