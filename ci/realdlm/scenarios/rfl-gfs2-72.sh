# rfl-gfs2-72 (host side): gdlm_rfl.ko (Rust for Linux) beside real GFS2 on three Linux 7.2
# nodes in the gfs2 lockspace gfs1 (see guest/scenario-rfl-gfs2-72.sh); node 2 (gfs2) killed, then
# node 3 (the module, after a clean leave and a re-mount).
# Orderings accepted: the module's control step may come before gfs2's replay (it logs
# `recover generation G jid 1` and `recover jid 1 result busy`, again after HZ) or after it
# (the bit is clear: no jid line, no result); it never reports success (it gives up).
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
# rdlm-rfl
scenario_main() {
  local d=$1 t n tk k=0
  t=$(date +%s.%N)
  rdlm_gfs2_disk "$d" rfl-gfs2-72 || return 1
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN gdlm.votes1=3"
  rdlm_net_up 3 || { check "rfl-gfs2-72: network namespace" false; return 1; }
  for n in 1 2 3; do RDLM_IMG=sid rdlm_vm_start "$d" $n 3 rfl-gfs2-72 "${RDLM_SHARED[@]}"; done
  unset RDLM_APPEND
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 240 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  if rdlm_wait_log "$d/node2.log" 'NODE2 READY TO DIE' 300 2 && rdlm_wait_log "$d/node3.log" 'ALL MOUNTED' 120 3; then
    say "all mounted after $(elapsed "$t") s; killing node2 (qemu pid ${RDLM_VMPID[2]})"
    tk=$(date +%s.%N)
    rdlm_vm_kill 2 KILL
    k=1
  fi
  [ $k = 1 ] && rdlm_wait_log "$d/node3.log" 'RECOVERY SEEN' 240 3 && say "node3 saw the recovery $(elapsed "$tk") s after the kill"
  if [ $k = 1 ] && rdlm_wait_log "$d/node3.log" 'NODE3 READY TO DIE' 120 3; then
    say "module re-mounted; killing node3 (qemu pid ${RDLM_VMPID[3]})"
    tk=$(date +%s.%N)
    rdlm_vm_kill 3 KILL
    k=2
  fi
  [ $k = 2 ] && rdlm_wait_log "$d/node1.log" 'RECOVERY2 SEEN' 240 1 && say "node1 recovered jid 2 $(elapsed "$tk") s after the kill"
  rdlm_vm_wait 1 150
  rdlm_vm_kill 1 KILL
  rdlm_vm_kill 2 KILL
  rdlm_vm_kill 3 KILL
  say "3 VMs wall time $(elapsed "$t") s"
  for n in 1 2 3; do
    rdlm_split "$d" $n
    rdlm_klog "$d" $n
  done
  for n in 1 2 3; do
    grep -E 'gdlm: gfs1: (recover generation|recover jid|jid=|mounted|first mounter)|gfs2: fsid=gdlm:gfs1(\.[0-9]+)?: (recover generation|recover jid|jid=[0-9]+: (Busy|Done|Replaying)|first mounter)|dlm: gfs1: remove member' "$d/node$n.klog" | sed "s/^/node$n /"
  done >"$d/rfl-recovery.log"
  sed 's/^/    /' "$d/rfl-recovery.log" >&2
  local k1=$d/node1.klog k3=$d/node3.klog g s dn
  check "rfl-gfs2-72: node 2 was killed once all had mounted, node 3 after the module's re-mount" test $k = 2
  check "rfl-gfs2-72: gfs2 node1 first mounter, node2 jid 1" bash -c "grep -q 'gfs2: fsid=gdlm:gfs1: first mounter control generation 0' '$k1' && grep -q 'gfs2: fsid=gdlm:gfs1.1: jid=1, already locked for use' '$d/node2.klog'"
  check "rfl-gfs2-72: the module on node3 mounted jid 2 (slot 3) in gfs2's lockspace, not first, recovery=gaveup" grep -q 'gdlm: gfs1: mounted jid 2 first 0 recovery=gaveup' "$k3"
  g=$(awk '/dlm: gfs1: remove member 2$/ {r=1} r && /gfs2: fsid=gdlm:gfs1\.0: recover generation [0-9]+ jid 1$/ {print $(NF-2); exit}' "$k1")
  check "rfl-gfs2-72: gfs2 on node1 recovered jid 1 (recover generation $g jid 1, result success, jid=1: Done)" \
    bash -c "[ -n '$g' ] && grep -q 'gfs2: fsid=gdlm:gfs1.0: recover jid 1 result success' '$k1' && grep -q 'gfs2: fsid=gdlm:gfs1.0: jid=1: Done' '$k1'"
  check "rfl-gfs2-72: the module's jid lines after the kill, if any, are gfs2's generation $g and jid 1" \
    bash -c "awk '/dlm: gfs1: remove member 2\$/ {r=1} r && /gdlm: gfs1: recover generation [0-9]+ jid [0-9]+\$/ {print \$(NF-2), \$NF}' '$k3' | awk -v g='$g' '\$1 != g || \$2 != 1 {bad=1} END {exit bad}'"
  check "rfl-gfs2-72: the module never reports success for jid 1 (it gives up: every result busy)" \
    bash -c "! grep 'gdlm: gfs1: recover jid 1 result' '$k3' | grep -vq 'result busy\$'"
  check "rfl-gfs2-72: the module finished generation $g (recover generation $g done)" grep -q "gdlm: gfs1: recover generation $g done\$" "$k3"
  s=$(rdlm_t "$d/node1.stamped" 'gfs2: fsid=gdlm:gfs1\.0: recover jid 1 result success')
  dn=$(rdlm_t "$d/node3.stamped" "gdlm: gfs1: recover generation $g done\$")
  check "rfl-gfs2-72: the module unblocked only after gfs2's replay (host clock: success $s, done $dn)" rdlm_before "$s" "$dn"
  check "rfl-gfs2-72: exactly one success for node 2's jid 1 in gfs1 (gfs2's, until the next removal; the module never succeeds)" \
    test "$(( $(awk '/dlm: gfs1: remove member 2$/ {r=1; next} r && /dlm: gfs1: remove member/ {exit} r && /recover jid 1 result success$/ {c++} END {print c+0}' "$k1") + $(grep -c 'gdlm: gfs1: recover jid [0-9]* result success' "$k3") ))" = 1
  check "rfl-gfs2-72: module status after the recovery: unblocked, control LVB generation $g, no jid bits" \
    bash -c "awk '/^GDLM-STATUS fsname gfs1/ {l=\$0} /RECOVERY SEEN/ {print l; exit}' '$d/node3.log' | grep -qE 'blocked 0 .*control_lvb_gen $g jids - '"
  local j2
  # the re-mount's jid: the lowest free slot (node 2's slot 2 once it died: jid 1)
  j2=$(sed -n 's/^gdlm: gfs1: mounted jid \([0-9]*\) first 0 recovery=gaveup$/\1/p' "$k3" | sed -n 2p)
  check "rfl-gfs2-72: the module unmounted cleanly (dlm_release_lockspace 0) and mounted again (jid $j2, the lowest free slot's)" \
    bash -c "grep -q 'gdlm: gfs1: dlm_release_lockspace 0' '$k3' && grep -q 'RFL UNMOUNTED gfs1' '$d/node3.harness' && grep -q 'RFL REMOUNTED gfs1' '$d/node3.harness' && [ -n '$j2' ]"
  check "rfl-gfs2-72: the clean leave was no failure: gfs2 recovered nothing between it and the kill" \
    bash -c "! awk '/dlm: gfs1: remove member 3\$/ {n++} n == 1 && /gfs2: fsid=gdlm:gfs1\.0: recover generation [0-9]+ jid [0-9]+\$/ {bad=1} END {exit !bad}' '$k1'"
  check "rfl-gfs2-72: after node 3's kill gfs2 on node1 recovered the module's jid $j2 (result success), which was clean (no replay; the module wrote nothing: block-layer writes 0)" \
    bash -c "awk -v j='$j2' '/dlm: gfs1: remove member 3\$/ {n++} n >= 2 && \$0 ~ (\"recover jid \" j \" result success\$\") {s=1} n >= 2 && \$0 ~ (\"jid=\" j \": Replaying journal\") {r=1} END {exit !(s && !r)}' '$k1' && grep -q 'SHARED DISK node3 writes=0\$' '$d/node3.harness'"
  check "rfl-gfs2-72: gfs2 on node1 wrote after both recoveries and unmounted" \
    bash -c "grep -q 'gfs2 write after recovery ok' '$d/node1.harness' && grep -q 'gfs2 write after recovery 2 ok' '$d/node1.harness' && grep -q 'gfs2 umounted' '$d/node1.harness'"
  check "rfl-gfs2-72: no engine event refused before the release" bash -c "! grep 'event refused' '$k3' | grep -vqE 'does not fit phase (Down|Failed|Withdrawn)'"
  check "rfl-gfs2-72: no kernel BUG/oops/warning on the survivors" bash -c "! grep -qE 'BUG:|Oops|Call Trace|Kernel panic|WARNING:' '$d/node1.dmesg' '$d/node3.dmesg'"
}
