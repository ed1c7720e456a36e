# smoke-1node: gdlm-linux against the real kernel DLM on one node, then the benchmark:
# gdlm-linux against the C baseline (same operations, same fd polling), alternating, 7 rounds.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
log "scenario smoke-1node"
timeout 120 "$SMOKE" single 200
log "smoke exit $?"
dlm_tool ls 2>&1 | sed 's/^/GDLM dlm_tool ls: /'
for round in $(seq 1 "${GDLM_BENCH_ROUNDS:-7}"); do
  timeout 60 /opt/gdlm/bin/dlmbench "${GDLM_BENCH_N:-2000}" | sed "s/^BENCH /BENCH r$round /"
  timeout 60 "$SMOKE" bench "${GDLM_BENCH_N:-2000}" | grep '^BENCH' | sed "s/^BENCH /BENCH r$round /"
done
log "bench done"
