# kmod-1node (host side): gdlm.ko on one node: load, first mount, status, an LVB round trip,
# the benchmark against the C-only path of the same module (DIR/bench.txt), unmount, rmmod.
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
scenario_main() {
  local d=$1 t
  rdlm_net_up 1 || { check "kmod-1node: network namespace" false; return 1; }
  t=$(date +%s.%N)
  rdlm_vm_start "$d" 1 1 kmod-1node
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 150 1 && say "node1 cluster-ready after $(elapsed "$t") s"
  rdlm_vm_wait 1 300
  say "node1 VM wall time $(elapsed "$t") s"
  rdlm_split "$d" 1
  grep -a 'gdlm' "$d/node1.dmesg" >"$d/gdlm-kernel.log"
  grep -a 'bench' "$d/gdlm-kernel.log" | sed 's/^.*gdlm: kone: //' >"$d/bench.txt"
  sed 's/^/    /' "$d/bench.txt" >&2
  check "kmod-1node: gdlm.ko loaded" grep -q 'KMOD LOADED' "$d/node1.harness"
  check "kmod-1node: joined lockspace kone (dlm: kone: generation 1)" grep -q 'dlm: kone: .*generation 1 ' "$d/node1.dmesg"
  check "kmod-1node: first mounter (gdlm: kone: first mounter control generation 0)" grep -q 'gdlm: kone: first mounter control generation 0$' "$d/node1.dmesg"
  check "kmod-1node: own journal lock held (jid=0, already locked for use)" grep -q 'gdlm: kone: jid=0, already locked for use' "$d/node1.dmesg"
  check "kmod-1node: first mount done" grep -q 'gdlm: kone: first mount done, others may mount' "$d/node1.dmesg"
  check "kmod-1node: mounted jid 0 first 1" grep -q 'gdlm: kone: mounted jid 0 first 1 recovery=success' "$d/node1.dmesg"
  check "kmod-1node: status: mounted, jid 0, unblocked, control LVB generation 1" \
    grep -qE '^GDLM-STATUS fsname kone cluster gdlm recovery=success mounted 1 first 1 jid 0 blocked 0 .*control_lvb_gen 1 jids -' "$d/node1.log"
  check "kmod-1node: EX granted, EX->UN wrote the LVB, SH read it back" grep -q "LVB after EX->UN->SH: 'hello-lvb'" "$d/node1.harness"
  check "kmod-1node: benchmark ran (DLM cycle and decisions only)" \
    bash -c "grep -qE 'rust best [0-9]+ median [0-9]+ ns/cycle; c best [0-9]+' '$d/bench.txt' && grep -qE 'decisions only .*rust [0-9]+ ns/cycle, c [0-9]+ ns/cycle' '$d/bench.txt'"
  rdlm_bench_checks kmod-1node "$d/bench.txt"
  check "kmod-1node: unmounted (dlm_release_lockspace 0)" grep -q 'gdlm: kone: dlm_release_lockspace 0' "$d/node1.dmesg"
  check "kmod-1node: a lone recovery=gaveup mount is refused: the engine's first-mounter pass cannot replay journal 0 (error recovering journal 0: -30)" \
    bash -c "grep -q 'KMOD KREF REFUSED' '$d/node1.harness' && grep -q 'gdlm: kref: jid=0: would replay: giving up' '$d/node1.dmesg' && grep -q 'gdlm: kref: error recovering journal 0: -30$' '$d/node1.dmesg'"
  check "kmod-1node: the refused mount released its lockspace" grep -q 'gdlm: kref: dlm_release_lockspace 0' "$d/node1.dmesg"
  check "kmod-1node: rmmod" grep -q 'KMOD REMOVED' "$d/node1.harness"
  check "kmod-1node: no kernel BUG/oops/warning" bash -c "! grep -qE 'BUG:|Oops|Call Trace|Kernel panic|WARNING:' '$d/node1.dmesg'"
}
