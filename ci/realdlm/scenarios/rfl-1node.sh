# rfl-1node (host side): gdlm_rfl.ko, the Rust-for-Linux gdlm module (shim-kernel/rfl, built by
# shim-kernel/rfl/build for the sid image's 7.2 kernel), on one 7.2 node: load with gdlm-core
# linked (the engine's self-test in init), a module-only lockspace mounted through the engine,
# the in-kernel benchmark (module vs the C-only path, DIR/bench.txt), unmount, rmmod, no
# oops. Sourced by ci/realdlm/run; scenario_main DIR.
# SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
# rdlm-rfl
scenario_main() {
  local d=$1 t
  rdlm_net_up 1 || { check "rfl-1node: network namespace" false; return 1; }
  t=$(date +%s.%N)
  RDLM_IMG=sid rdlm_vm_start "$d" 1 1 rfl-1node
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 150 1 && say "node1 cluster-ready after $(elapsed "$t") s"
  rdlm_vm_wait 1 300
  say "node1 VM wall time $(elapsed "$t") s"
  rdlm_split "$d" 1
  grep -a 'gdlm' "$d/node1.dmesg" >"$d/gdlm-kernel.log"
  grep -a 'gdlm: rone: bench' "$d/gdlm-kernel.log" | sed 's/^.*gdlm: rone: //' >"$d/bench.txt"
  sed 's/^/    /' "$d/bench.txt" >&2
  check "rfl-1node: gdlm_rfl.ko loaded on 7.2 (insmod, /proc/modules)" \
    bash -c "grep -q 'RFL LOADED' '$d/node1.harness' && grep -q 'RFL IN PROC-MODULES' '$d/node1.harness'"
  check "rfl-1node: the engine ran in the module (self-test: Mount -> NewLockspace, joined -> a control_lock request)" \
    bash -c "grep -q 'gdlm_rfl: self-test: mount -> NewLockspace' '$d/node1.dmesg' && grep -qE 'gdlm_rfl: self-test: [0-9]+ actions, control_lock asked true' '$d/node1.dmesg'"
  check "rfl-1node: joined lockspace rone through the DLM binding (dlm: rone: generation 1)" grep -q 'dlm: rone: .*generation 1 ' "$d/node1.dmesg"
  check "rfl-1node: first mounter (gdlm: rone: first mounter control generation 0)" grep -q 'gdlm: rone: first mounter control generation 0$' "$d/node1.dmesg"
  check "rfl-1node: own journal lock held (jid=0, already locked for use)" grep -q 'gdlm: rone: jid=0, already locked for use' "$d/node1.dmesg"
  check "rfl-1node: first mount done" grep -q 'gdlm: rone: first mount done, others may mount' "$d/node1.dmesg"
  check "rfl-1node: mounted jid 0 first 1" bash -c "grep -q 'gdlm: rone: mounted jid 0 first 1 recovery=success' '$d/node1.dmesg' && grep -q 'RFL MOUNTED' '$d/node1.harness'"
  check "rfl-1node: status: mounted, jid 0, unblocked, control LVB generation 1" \
    grep -qE '^GDLM-STATUS fsname rone cluster gdlm recovery=success mounted 1 first 1 jid 0 blocked 0 .*control_lvb_gen 1 jids - ' "$d/node1.log"
  check "rfl-1node: a test lock through gdlm-core's Glock: EX granted, EX->UN wrote the LVB, SH read it back, unlock" \
    bash -c "grep -q \"LVB after EX->UN->SH: 'hello-lvb'\" '$d/node1.harness' && grep -q 'RFL UNLOCKED 2,1a' '$d/node1.harness'"
  check "rfl-1node: benchmark ran (DLM cycle and decisions only, module and C-only path)" \
    bash -c "grep -q 'RFL BENCH DONE' '$d/node1.harness' && grep -qE 'module best [0-9]+ median [0-9]+ ns/cycle; c-only best [0-9]+' '$d/bench.txt' && grep -qE 'decisions only .*module [0-9]+ ns/cycle, c-only [0-9]+ ns/cycle' '$d/bench.txt'"
  rdlm_bench_checks rfl-1node "$d/bench.txt"
  check "rfl-1node: unmounted (dlm_release_lockspace 0)" bash -c "grep -q 'gdlm: rone: dlm_release_lockspace 0' '$d/node1.dmesg' && grep -q 'RFL UNMOUNTED' '$d/node1.harness'"
  check "rfl-1node: a lone recovery=gaveup mount is refused (error recovering journal 0: -30) and released" \
    bash -c "grep -q 'RFL RREF REFUSED' '$d/node1.harness' && grep -q 'gdlm: rref: jid=0: would replay: giving up' '$d/node1.dmesg' && grep -q 'gdlm: rref: dlm_release_lockspace 0' '$d/node1.dmesg'"
  check "rfl-1node: no engine event refused before the release (the DLM's recover_prep inside dlm_release_lockspace finds the engine finished: refused, as in the C glue)" bash -c "! grep 'event refused' '$d/node1.dmesg' | grep -vqE 'does not fit phase (Down|Failed|Withdrawn)'"
  check "rfl-1node: rmmod" grep -q 'RFL REMOVED' "$d/node1.harness"
  check "rfl-1node: unloaded (Drop ran)" grep -q 'gdlm_rfl: unloaded' "$d/node1.dmesg"
  check "rfl-1node: no kernel BUG/oops/warning" bash -c "! grep -qE 'BUG:|Oops|Call Trace|Kernel panic|WARNING:' '$d/node1.dmesg'"
}
