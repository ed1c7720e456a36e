# smoke-1node (host side): one VM, gdlm-linux-smoke `single` through libdlm, then the
# benchmark against the C baseline (results in DIR/bench.txt).
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
scenario_main() {
  local d=$1 t
  rdlm_net_up 1 || { check "smoke-1node: network namespace" false; return 1; }
  t=$(date +%s.%N)
  rdlm_vm_start "$d" 1 1 smoke-1node
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 150 1 && say "node1 cluster-ready after $(elapsed "$t") s"
  rdlm_vm_wait 1 300
  say "node1 VM wall time $(elapsed "$t") s"
  rdlm_split "$d" 1
  grep -a '^SMOKE ' "$d/node1.log" | tr -d '\r' >"$d/smoke.txt"
  grep -a 'SMOKE time' "$d/smoke.txt" | sed 's/^/    /' >&2
  sed -n 's/^GDLM\[\([0-9.]*\)\] READY.*/\1/p' "$d/node1.harness" | sed 's/^/    guest uptime at cluster-ready: /' >&2
  check "smoke-1node: corosync + dlm_controld ready" grep -q '\] READY members=1' "$d/node1.harness"
  local c
  for c in lockspace-create lock-ex-valblk convert-ex-nl-writes-lvb convert-nl-ex-reads-lvb \
    lvb-carried-through-cycles noqueue-conflict-eagain noqueue-sends-no-bast core-gdlm_ast-try-again \
    noqueuebast-eagain-and-bast no-repeat-bast-before-regrant demote-hands-lvb-over \
    queued-convert-sends-bast cancel-conversion cancel-queued-request unlock \
    no-live-locks lockspace-release; do
    check "smoke-1node: $c" grep -q "^SMOKE check $c ok" "$d/smoke.txt"
  done
  check "smoke-1node: smoke binary finished with 0 failed" grep -qE '^SMOKE done: [0-9]+ checks, 0 failed' "$d/smoke.txt"
  check "smoke-1node: kernel joined the lockspace (dlm: gdlmsmoke: generation 1)" grep -q 'dlm: gdlmsmoke: .*generation 1 ' "$d/node1.dmesg"
  check "smoke-1node: no kernel BUG/oops" bash -c "! grep -qE 'BUG:|Oops|Call Trace|Kernel panic' '$d/node1.dmesg'"
  bench_summary "$d"
}

# bench_summary DIR: per operation (each process's fastest 250-iteration chunk, and its mean),
# the best and the median round of gdlm-linux and of C, and the median of the per-round
# ratios (rounds alternate C, gdlm-linux, so a pair shares the machine's state)
bench_summary() {
  local d=$1 op
  grep -a '^BENCH r[0-9]* ' "$d/node1.log" | tr -d '\r' >"$d/bench-raw.txt"
  for op in lock_unlock_us convert_cycle_us lock_unlock_mean_us convert_cycle_mean_us; do
    awk -v op="$op" '
      $4 == op { v[$3] = v[$3] " " $5; by[$2, $3] = $5; if (!($2 in seen)) { seen[$2] = 1; rounds[++nr0] = $2 } }
      function sorted(s, a,   n, i, j, t) {
        n = split(s, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n
      }
      END {
        nc = sorted(v["c"], c); nr = sorted(v["rust"], r)
        ratios = ""
        for (k = 1; k <= nr0; k++) if (by[rounds[k], "c"] > 0 && by[rounds[k], "rust"] > 0)
          ratios = ratios " " (by[rounds[k], "rust"] - by[rounds[k], "c"]) * 100 / by[rounds[k], "c"]
        np = sorted(ratios, p)
        if (nc && nr) printf "bench %-21s best: C %7.2f us, gdlm-linux %7.2f us (%+5.1f%%); median: C %7.2f us, gdlm-linux %7.2f us (%+5.1f%%); paired median %+5.1f%%; %d rounds\n", op, c[1], r[1], (r[1] - c[1]) * 100 / c[1], c[int((nc + 1) / 2)], r[int((nr + 1) / 2)], (r[int((nr + 1) / 2)] - c[int((nc + 1) / 2)]) * 100 / c[int((nc + 1) / 2)], p[int((np + 1) / 2)], nc
      }' "$d/bench-raw.txt"
  done >"$d/bench.txt"
  sed 's/^/    /' "$d/bench.txt" >&2
  check "smoke-1node: benchmark ran (C and gdlm-linux, lock+unlock and convert cycles)" \
    test "$(grep -c 'rounds$' "$d/bench.txt")" = 4
}
