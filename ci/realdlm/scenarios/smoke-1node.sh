# smoke-1node (host side): one VM, gdlm-linux-smoke `single` through libdlm.
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
scenario_main() {
  local d=$1 t
  rdlm_net_up 1 || { check "smoke-1node: network namespace" false; return 1; }
  t=$(date +%s.%N)
  rdlm_vm_start "$d" 1 1 smoke-1node
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 150 1 && say "node1 cluster-ready after $(elapsed "$t") s"
  rdlm_vm_wait 1 180
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
}
