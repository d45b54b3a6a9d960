#!/usr/bin/env bash
# `npm run bench:versions`: the bench's start-up, launch and throughput
# sections under each Node tw supports, one after another, then one table with
# a row per figure and a column per version. Each version's full output is
# kept in the folder printed at the end.
#   BENCH_NODES="system 22 24 26"   which nodes (scripts/with-node's names)
#   BENCH_ONLY=startup,launch,throughput   which sections (see bench/run.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d "${TMPDIR:-/tmp}/tw-bench-versions-XXXXXX")
node build.mjs
for version in ${BENCH_NODES:-system 22 24 26}; do
  echo "== node $version" >&2
  # Built by that node: V8's code cache of tw is that node's own.
  scripts/with-node "$version" node build.mjs
  scripts/with-node "$version" env BENCH_ONLY="${BENCH_ONLY:-startup,launch,throughput}" BENCH_SUMMARY_JSON="$out/$version.json" \
    node --import tsx bench/run.ts > "$out/$version.log" 2>&1 || echo "node $version: bench failed, see $out/$version.log" >&2
  grep -A30 '^== Summary' "$out/$version.log" >&2 || true
done
scripts/with-node system true
node bench/versions-table.mjs "$out"/*.json
echo "full output: $out"
