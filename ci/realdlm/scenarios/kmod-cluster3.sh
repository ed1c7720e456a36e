# kmod-cluster3 (host side): gdlm.ko in a real three-node cluster (see
# guest/scenario-kmod-cluster3.sh): gfs2 on nodes 1, 2 and the module on node 3 in the gfs2
# lockspace gfs1 (recovery=gaveup), all three modules in the module-only lockspace kls
# (recovery=success) with LVB traffic; node 2 is killed (a gfs2 node and a kls member), then
# node 3 (the module's gfs1 member). Kernel lines of every node (serial console, so the killed
# nodes' too) go to DIR/nodeN.klog; DIR/kmod-recovery.log has the recovery lines of both sides.
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only

scenario_main() {
  local d=$1 t n tk
  t=$(date +%s.%N)
  rdlm_gfs2_disk "$d" kmod-cluster3 || return 1
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN gdlm.votes1=3"
  rdlm_net_up 3 || { check "kmod-cluster3: network namespace" false; return 1; }
  for n in 1 2 3; do rdlm_vm_start "$d" $n 3 kmod-cluster3 "${RDLM_SHARED[@]}"; done
  unset RDLM_APPEND
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 240 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  local k2=0 k3=0
  if rdlm_wait_log "$d/node2.log" 'NODE2 READY TO DIE' 300 2 &&
    rdlm_wait_log "$d/node1.log" 'KLS TRAFFIC DONE' 120 1 && rdlm_wait_log "$d/node3.log" 'KLS TRAFFIC DONE' 120 3; then
    say "phase 1 done after $(elapsed "$t") s; killing node2 (qemu pid ${RDLM_VMPID[2]})"
    tk=$(date +%s.%N)
    rdlm_vm_kill 2 KILL
    k2=1
  else
    say "phase 1 did not finish in time"
  fi
  if [ $k2 = 1 ] && rdlm_wait_log "$d/node3.log" 'NODE3 READY TO DIE' 240 3 &&
    rdlm_wait_log "$d/node1.log" 'PHASE2 DONE' 120 1; then
    say "recovery after node2 seen $(elapsed "$tk") s after the kill; killing node3 (qemu pid ${RDLM_VMPID[3]})"
    tk=$(date +%s.%N)
    rdlm_vm_kill 3 KILL
    k3=1
  fi
  [ $k3 = 1 ] && rdlm_wait_log "$d/node1.log" 'RECOVERY2 SEEN' 240 1 && say "recovery after node3 seen $(elapsed "$tk") s after the kill"
  rdlm_vm_wait 1 120
  rdlm_vm_kill 2 KILL
  rdlm_vm_kill 3 KILL
  say "3 VMs wall time $(elapsed "$t") s"
  for n in 1 2 3; do
    rdlm_split "$d" $n
    rdlm_klog "$d" $n
  done
  for n in 1 2 3; do
    grep -E 'gdlm: (gfs1|kls): (recover generation|recover jid|jid=|mounted|first mounter|bast)|gfs2: fsid=gdlm:gfs1(\.[0-9]+)?: (recover generation|recover jid|jid=[0-9]+: (Busy|Done)|first mounter)|dlm: (gfs1|kls): remove member' "$d/node$n.klog" | sed "s/^/node$n /"
  done >"$d/kmod-recovery.log"
  sed 's/^/    /' "$d/kmod-recovery.log" >&2
  grep -ah '^GDLM\[.*LVB ' "$d"/node[123].log | tr -d '\r' | sed 's/^/    /' >&2
  local k1=$d/node1.klog k2l=$d/node2.klog k3l=$d/node3.klog

  check "kmod-cluster3: node 2 was killed after phase 1, node 3 after the first recovery" test "$k2$k3" = 11
  for n in 1 2 3; do check "kmod-cluster3: node$n loaded gdlm.ko" grep -q 'KMOD LOADED' "$d/node$n.log"; done
  # gfs1: two gfs2 nodes and the module
  check "kmod-cluster3: gfs1: node1 gfs2 first mounter" grep -q 'gfs2: fsid=gdlm:gfs1: first mounter control generation 0' "$k1"
  check "kmod-cluster3: gfs1: node2 gfs2 mounted with jid 1" grep -q 'gfs2: fsid=gdlm:gfs1.1: jid=1, already locked for use' "$k2l"
  check "kmod-cluster3: gfs1: module on node3 mounted jid 2 (slot 3), not first, recovery=gaveup" grep -q 'gdlm: gfs1: mounted jid 2 first 0 recovery=gaveup' "$k3l"
  check "kmod-cluster3: gfs1: the module unmounted cleanly and mounted again with jid 2" \
    bash -c "grep -q 'KMOD UNMOUNTED gfs1' '$d/node3.log' && grep -q 'KMOD REMOUNTED gfs1' '$d/node3.log' && [ \$(grep -c 'gdlm: gfs1: mounted jid 2 first 0 recovery=gaveup' '$k3l') = 2 ]"
  check "kmod-cluster3: gfs1: the clean unmount was no failure: gfs2 finished a generation after 'remove member 3' and recovered no jid 2 before node 2's kill" \
    bash -c "awk '/dlm: gfs1: remove member 3\$/ {r=1} r && /gfs2: fsid=gdlm:gfs1.0: recover generation [0-9]+ done/ {d=1} /dlm: gfs1: remove member 2\$/ {exit} /gfs2: fsid=gdlm:gfs1.0: recover generation [0-9]+ jid 2\$/ {j=1} END {exit !(d && !j)}' '$k1' && ! grep -qE 'gfs2: fsid=gdlm:gfs1.1: recover generation [0-9]+ jid 2\$' '$k2l'"
  check "kmod-cluster3: gfs1: module holds its journal lock (jid=2, already locked for use)" grep -q 'gdlm: gfs1: jid=2, already locked for use' "$k3l"
  # the generation of the module's join, as both gfs2 nodes finished it
  local jg
  jg=$(sed -n 's/^gdlm: gfs1: recover_done generation \([0-9]*\) slots 3 our_slot 3$/\1/p' "$k3l" | head -1)
  check "kmod-cluster3: gfs1: both gfs2 nodes logged 'recover generation ${jg:-?} done' for the module's join" \
    bash -c "[ -n '$jg' ] && grep -q 'gfs2: fsid=gdlm:gfs1.0: recover generation $jg done' '$k1' && grep -q 'gfs2: fsid=gdlm:gfs1.1: recover generation $jg done' '$k2l'"
  # kls: the module on all three
  check "kmod-cluster3: kls: node1 first mounter" grep -q 'gdlm: kls: first mounter control generation 0' "$k1"
  check "kmod-cluster3: kls: node1 mounted jid 0 first 1" grep -q 'gdlm: kls: mounted jid 0 first 1 recovery=success' "$k1"
  check "kmod-cluster3: kls: node2 mounted jid 1 first 0" grep -q 'gdlm: kls: mounted jid 1 first 0 recovery=success' "$k2l"
  check "kmod-cluster3: kls: node3 mounted jid 2 first 0" grep -q 'gdlm: kls: mounted jid 2 first 0 recovery=success' "$k3l"
  check "kmod-cluster3: kls LVB: node2 read node1's LVB with SH (node1 demoted EX->SH on the BAST)" \
    bash -c "grep -q \"LVB 2,100 on node2: 'from-node1'\" '$d/node2.log' && grep -q 'gdlm: kls: bast 2,100 mode 3: demote EX->SH rv 0' '$k1'"
  check "kmod-cluster3: kls LVB: node3 read node1's LVB" grep -q "LVB 2,100 on node3: 'from-node1'" "$d/node3.log"
  check "kmod-cluster3: kls LVB: node3 wrote its LVB under EX, node1 read it (node3 demoted EX->SH)" \
    bash -c "grep -q \"LVB 2,100 on node1: 'from-node3'\" '$d/node1.log' && grep -q 'gdlm: kls: bast 2,100 mode 3: demote EX->SH rv 0' '$k3l'"

  # kill of node 2: gfs1 (gfs2 node1 replays jid 1; the module on node3 never does)
  local g1
  g1=$(awk '/dlm: gfs1: remove member 2$/ {r=1} r && /gfs2: fsid=gdlm:gfs1.0: recover generation [0-9]+ done/ {print $(NF-1); exit}' "$k1")
  check "kmod-cluster3: node2 killed: dlm removed member 2 from gfs1 and kls on node1 and node3" \
    bash -c "grep -q 'dlm: gfs1: remove member 2$' '$k1' && grep -q 'dlm: gfs1: remove member 2$' '$k3l' && grep -q 'dlm: kls: remove member 2$' '$k1' && grep -q 'dlm: kls: remove member 2$' '$k3l'"
  check "kmod-cluster3: node2 killed: gfs2 node1 'recover generation ${g1:-?} jid 1', 'recover jid 1 result success', 'jid=1: Done'" \
    bash -c "[ -n '$g1' ] && grep -q 'gfs2: fsid=gdlm:gfs1.0: recover generation $g1 jid 1$' '$k1' && grep -q 'gfs2: fsid=gdlm:gfs1.0: recover jid 1 result success' '$k1' && grep -q 'gfs2: fsid=gdlm:gfs1.0: jid=1: Done' '$k1'"
  # Either ordering is lock_dlm's: the module's control step at generation g1 finds jid 1's
  # bit (and gives up on it: Busy, or "would replay: giving up") while gfs2 replays it, or
  # gfs2 on node1 already replayed jid 1 and cleared the bit, and the module unblocks at once.
  check "kmod-cluster3: node2 killed: the module on node3 ran gfs2's generation ${g1:-?} ('gdlm: gfs1: recover generation ${g1:-?} jid 1', or gfs2 had already cleared the bit)" \
    grep -qE "gdlm: gfs1: recover generation ${g1:-x} (jid 1|done)$" "$k3l"
  check "kmod-cluster3: node2 killed: the module on node3 never recovered a gfs2 journal itself (no 'result success', no replay; any result for jid 1 is busy)" \
    bash -c "! grep -q 'gdlm: gfs1: recover jid [0-9]* result success' '$k3l' && ! grep -q 'gdlm: gfs1: jid=[0-9]*: Replaying' '$k3l' && ! grep 'gdlm: gfs1: recover jid 1 result' '$k3l' | grep -qv 'result busy$'"
  check "kmod-cluster3: node2 killed: when the module saw jid 1 it did not unblock at that step (a give-up between the jid line and 'done')" \
    bash -c "! grep -q 'gdlm: gfs1: recover generation ${g1:-x} jid 1$' '$k3l' || awk '/gdlm: gfs1: recover generation ${g1:-x} jid 1\$/ {j=1} j && /gdlm: gfs1: (recover jid 1 result busy|jid=1: Busy)\$/ {b=1} /gdlm: gfs1: recover generation ${g1:-x} done\$/ {d=1; ok = j ? b : 1} END {exit !(d && ok)}' '$k3l'"
  check "kmod-cluster3: node2 killed: the module on node3 unblocked at gfs2's generation ('gdlm: gfs1: recover generation ${g1:-?} done')" \
    grep -q "gdlm: gfs1: recover generation ${g1:-x} done$" "$k3l"
  check "kmod-cluster3: node2 killed: exactly one 'recover jid 1 result success' in gfs1 (both sides)" \
    bash -c "[ \$(cat '$k1' '$k3l' | grep -cE '(gfs2: fsid=gdlm:gfs1.[0-9]+|gdlm: gfs1): recover jid 1 result success') = 1 ]"
  local tr2 ts2 td2
  tr2=$(rdlm_t "$d/node1.stamped" 'dlm: gfs1: remove member 2$')
  ts2=$(rdlm_t "$d/node1.stamped" 'gfs2: fsid=gdlm:gfs1\.0: recover jid 1 result success' "$tr2")
  td2=$(rdlm_t "$d/node3.stamped" "gdlm: gfs1: recover generation ${g1:-x} done" "$tr2")
  echo "node2 kill: node1 removal $tr2, gfs2 success $ts2, module done $td2" >"$d/host-clock.txt"
  check "kmod-cluster3: node2 killed: the module unblocked after gfs2's replay (host clock: its 'recover generation ${g1:-?} done' not before node1's 'recover jid 1 result success')" \
    rdlm_before "$ts2" "$td2"
  check "kmod-cluster3: node2 killed: the module's status after the recovery: unblocked, control LVB generation ${g1:-?}, no jid bits" \
    grep -qE "^GDLM-STATUS fsname gfs1 .* blocked 0 .*control_lvb_gen ${g1:-x} jids -" "$d/node3.log"
  check "kmod-cluster3: node2 killed: gfs2 on node1 wrote afterwards" grep -q 'gfs2 write after recovery 1 ok' "$d/node1.log"
  # kill of node 2: kls (modules on node1 and node3, recovery=success)
  local kg
  kg=$(awk '/dlm: kls: remove member 2$/ {r=1} r && /gdlm: kls: recover generation [0-9]+ done/ {print $(NF-1); exit}' "$k1")
  check "kmod-cluster3: node2 killed: kls: node1 and node3 'recover generation ${kg:-?} done', a 'recover generation ${kg:-?} jid 1'" \
    bash -c "[ -n '$kg' ] && grep -q 'gdlm: kls: recover generation $kg done$' '$k3l' && cat '$k1' '$k3l' | grep -q 'gdlm: kls: recover generation $kg jid 1$'"
  # the journal stand-in's LVB lives only while a lock exists on it (shim-kernel/module/README.md)
  check "kmod-cluster3: kls: every node anchored the journal resources ('journal anchors 8 (NL)')" \
    bash -c "grep -q 'gdlm: kls: journal anchors 8 (NL)' '$k1' && grep -q 'gdlm: kls: journal anchors 8 (NL)' '$d/node2.klog' && grep -q 'gdlm: kls: journal anchors 8 (NL)' '$k3l'"
  check "kmod-cluster3: node2 killed: kls: exactly one node replayed jid 1 ('gdlm: kls: jid=1: Replaying journal'), each result success or busy" \
    bash -c "[ \$(cat '$k1' '$k3l' | grep -c 'gdlm: kls: jid=1: Replaying journal') = 1 ] && cat '$k1' '$k3l' | grep -q 'gdlm: kls: recover jid 1 result success' && ! cat '$k1' '$k3l' | grep 'gdlm: kls: recover jid 1 result' | grep -qvE 'result (success|busy)$'"
  check "kmod-cluster3: node2 killed: kls locks on node1 and node3 afterwards" \
    bash -c "grep -q 'kls lock after recovery ok' '$d/node1.log' && grep -q 'kls lock after recovery ok' '$d/node3.log'"

  check "kmod-cluster3: the module's node3 wrote nothing to the shared disk (block layer write count 0)" \
    grep -q 'SHARED DISK node3 writes=0$' "$d/node3.harness"
  # kill of node 3: gfs2 on node1 recovers the module's jid 2 (clean: the module never wrote)
  local g2 kg2
  # (the 'remove member 3' after node 2's removal: the first one was the module's clean unmount)
  g2=$(awk '/dlm: gfs1: remove member 2$/ {k=1} k && /dlm: gfs1: remove member 3$/ {r=1} r && /gfs2: fsid=gdlm:gfs1.0: recover generation [0-9]+ done/ {print $(NF-1); exit}' "$k1")
  check "kmod-cluster3: node3 killed: gfs2 node1 'recover generation ${g2:-?} jid 2', 'recover jid 2 result success', 'jid=2: Done', 'recover generation ${g2:-?} done'" \
    bash -c "[ -n '$g2' ] && grep -q 'gfs2: fsid=gdlm:gfs1.0: recover generation $g2 jid 2$' '$k1' && grep -q 'gfs2: fsid=gdlm:gfs1.0: recover jid 2 result success' '$k1' && grep -q 'gfs2: fsid=gdlm:gfs1.0: jid=2: Done' '$k1'"
  check "kmod-cluster3: node3 killed: gfs2 found the module's journal clean (jid=2: Looking at journal..., no 'jid=2: Replaying journal')" \
    bash -c "awk '/dlm: gfs1: remove member 2\$/ {k=1} k && /dlm: gfs1: remove member 3\$/ {r=1} r' '$k1' | grep -q 'gfs2: fsid=gdlm:gfs1.0: jid=2: Looking at journal' && ! grep -q 'gfs1.0: jid=2: Replaying journal' '$k1'"
  kg2=$(awk '/dlm: kls: remove member 3$/ {r=1} r && /gdlm: kls: recover generation [0-9]+ done/ {print $(NF-1); exit}' "$k1")
  check "kmod-cluster3: node3 killed: kls: node1 'recover generation ${kg2:-?} jid 2', 'jid=2: Replaying journal', 'recover jid 2 result success', 'recover generation ${kg2:-?} done'" \
    bash -c "[ -n '$kg2' ] && grep -q 'gdlm: kls: recover generation $kg2 jid 2$' '$k1' && grep -q 'gdlm: kls: jid=2: Replaying journal' '$k1' && grep -q 'gdlm: kls: recover jid 2 result success' '$k1'"
  check "kmod-cluster3: node3 killed: node1 locked kls and wrote gfs2 afterwards" \
    bash -c "grep -q 'kls lock after recovery 2 ok' '$d/node1.log' && grep -q 'gfs2 write after recovery 2 ok' '$d/node1.log'"
  check "kmod-cluster3: node1 unmounted kls and gfs2, removed the module" \
    bash -c "grep -q 'KMOD UNMOUNTED kls' '$d/node1.log' && grep -q 'gfs2 umounted' '$d/node1.log' && grep -q 'KMOD REMOVED' '$d/node1.log'"
  check "kmod-cluster3: no kernel BUG/oops on any node" bash -c "! grep -aqE 'BUG:|Oops|Kernel panic' '$d'/node[123].log"
  rm -f "$d/shared.img"
}
