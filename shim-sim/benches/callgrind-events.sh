#!/usr/bin/env bash
# Simulated cost per event: callgrind instructions of `gdlm-sim explore` (swarm seeds,
# crash/mount/unmount, glock traffic) divided by the events it ran, per cluster size.
#
#   bash shim-sim/benches/callgrind-events.sh [BINARY...]
#
# With several binaries (e.g. one built from an older commit) the rows sit side by side.
# Seeds per size keep each run near 100k-400k events (192 nodes: 3 seeds, 106k events).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind not found"; exit 1; }
if [ $# -eq 0 ]; then
  cargo build -q --release -p gdlm-sim
  set -- target/release/gdlm-sim
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-40s %6s %6s %8s %14s %10s\n' binary nodes seeds events instructions per_event
for bin in "$@"; do
  for spec in 3:200 16:50 64:10 192:3; do
    n=${spec%%:*} s=${spec##*:}
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bin" explore --seeds "$s" \
      --nodes "$n" --quiet --jobs 1 >"$tmp/out" 2>"$tmp/err" || true
    ev=$(awk '$1 == "events" {print $2}' "$tmp/out")
    ir=$(awk '/Collected/ {print $4}' "$tmp/err")
    printf '%-40s %6s %6s %8s %14s %10s\n' "$bin" "$n" "$s" "$ev" "$ir" $((ir / ev))
  done
done
