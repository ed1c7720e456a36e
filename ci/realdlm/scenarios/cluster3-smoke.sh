# cluster3-smoke (host side): three VMs running gdlm-linux-smoke `node N`.
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
scenario_main() {
  local d=$1 t n
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN"
  rdlm_net_up 3 || { check "cluster3-smoke: network namespace" false; return 1; }
  t=$(date +%s.%N)
  for n in 1 2 3; do rdlm_vm_start "$d" $n 3 cluster3-smoke; done
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 240 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  for n in 1 2 3; do rdlm_vm_wait $n 300; done
  unset RDLM_APPEND
  say "3 VMs wall time $(elapsed "$t") s"
  for n in 1 2 3; do
    rdlm_split "$d" $n
    grep -a '^SMOKE ' "$d/node$n.log" | tr -d '\r' >"$d/smoke-node$n.txt"
    grep -a 'SMOKE time' "$d/smoke-node$n.txt" | sed "s/^/    node$n: /" >&2
    check "cluster3-smoke: node$n ready with 3 members" grep -q '\] READY members=3' "$d/node$n.harness"
    check "cluster3-smoke: node$n smoke finished with 0 failed" grep -qE '^SMOKE done: [0-9]+ checks, 0 failed' "$d/smoke-node$n.txt"
  done
  local c
  for c in node1-bast-res1-from-noqueuebast node1-bast-res2-demote-with-lvb; do
    check "cluster3-smoke: $c" grep -q "^SMOKE check $c ok" "$d/smoke-node1.txt"
  done
  for c in node2-noqueue-cross-node-eagain node2-noqueue-storm-eagain node2-noqueuebast-cross-node-eagain \
    node2-blocking-ex-granted-with-node1-lvb node2-bast-res2-demote-with-lvb; do
    check "cluster3-smoke: $c" grep -q "^SMOKE check $c ok" "$d/smoke-node2.txt"
  done
  check "cluster3-smoke: node3-pr-granted-with-node2-lvb" grep -q "^SMOKE check node3-pr-granted-with-node2-lvb ok" "$d/smoke-node3.txt"
  # 200 refused NOQUEUE requests from node 2 (Linux 7.2.13 panicked on such requests made
  # as new requests: README "Fixed: Linux 7.2.13 panicked ...")
  check "cluster3-smoke: no kernel BUG/oops/panic/refcount or list warning on any node (6.1 dlm's requestqueue WARNING aside)" \
    bash -c "! grep -aE 'BUG:|Oops|Kernel panic|refcount_t: |list_add corruption|WARNING: ' '$d/node1.log' '$d/node2.log' '$d/node3.log' | grep -qv 'at fs/dlm/requestqueue.c:47 dlm_add_requestqueue'"
}
