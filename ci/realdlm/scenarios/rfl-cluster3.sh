# rfl-cluster3 (host side): gdlm_rfl.ko, the Rust-for-Linux module, on three Linux 7.2 nodes in
# one module-only lockspace (rls); node 3 killed once all three are mounted; the survivors
# recover its jid 2 (see guest/scenario-rfl-cluster3.sh). Checks accept every ordering the
# protocol allows: either survivor may replay (exactly one replay: the journal lock's LVB is
# the journal, so whoever comes second finds it clean or busy), either may write the control
# LVB first, a survivor may log no `jid 2` line at all (its control step came after the
# other's replay cleared the bit). Sourced by ci/realdlm/run; scenario_main DIR.
# SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
# rdlm-rfl
scenario_main() {
  local d=$1 t n tk k=0
  t=$(date +%s.%N)
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN"
  rdlm_net_up 3 || { check "rfl-cluster3: network namespace" false; return 1; }
  for n in 1 2 3; do RDLM_IMG=sid rdlm_vm_start "$d" $n 3 rfl-cluster3; done
  unset RDLM_APPEND
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 240 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  if rdlm_wait_log "$d/node3.log" 'NODE3 READY TO DIE' 300 3; then
    say "all mounted after $(elapsed "$t") s; killing node3 (qemu pid ${RDLM_VMPID[3]})"
    tk=$(date +%s.%N)
    rdlm_vm_kill 3 KILL
    k=1
  else
    say "node3 never got ready"
  fi
  [ $k = 1 ] && rdlm_wait_log "$d/node1.log" 'RECOVERY SEEN' 240 1 && say "node1 saw the recovery $(elapsed "$tk") s after the kill"
  rdlm_vm_wait 1 150
  rdlm_vm_wait 2 60
  rdlm_vm_kill 2 KILL
  rdlm_vm_kill 3 KILL
  say "3 VMs wall time $(elapsed "$t") s"
  for n in 1 2 3; do
    rdlm_split "$d" $n
    rdlm_klog "$d" $n
  done
  for n in 1 2 3; do
    grep -E 'gdlm: rls: (recover generation|recover jid|jid=|mounted|first mounter)|dlm: rls: remove member' "$d/node$n.klog" | sed "s/^/node$n /"
  done >"$d/rfl-recovery.log"
  sed 's/^/    /' "$d/rfl-recovery.log" >&2

  check "rfl-cluster3: node 3 was killed once all three had mounted" test $k = 1
  for n in 1 2 3; do check "rfl-cluster3: node$n loaded gdlm_rfl.ko (7.2)" grep -q 'RFL LOADED' "$d/node$n.harness"; done
  check "rfl-cluster3: node1 first mounter, jid 0" bash -c "grep -q 'gdlm: rls: first mounter control generation 0' '$d/node1.klog' && grep -q 'gdlm: rls: mounted jid 0 first 1 recovery=success' '$d/node1.klog'"
  check "rfl-cluster3: node2 mounted jid 1, node3 jid 2" bash -c "grep -q 'gdlm: rls: mounted jid 1 first 0' '$d/node2.klog' && grep -q 'gdlm: rls: mounted jid 2 first 0' '$d/node3.klog'"
  check "rfl-cluster3: LVB hand-off: nodes 2 and 3 read node 1's LVB with SH, node 1 demoted EX -> SH on a BAST" \
    bash -c "grep -q \"LVB 2,100 on node2: 'from-node1'\" '$d/node2.harness' && grep -q \"LVB 2,100 on node3: 'from-node1'\" '$d/node3.harness' && grep -q 'gdlm: rls: bast 2,100 mode 3: demote EX -> SH' '$d/node1.klog'"
  local g1 g2 r
  # each survivor's first `recover generation N done` after node 3's removal
  for n in 1 2; do
    # (before any other removal: the other survivor's unmount starts a generation of its own)
    r=$(awk '/dlm: rls: remove member 3$/ {r=1; next} r && /dlm: rls: remove member/ {exit} r && /gdlm: rls: recover generation [0-9]+ done$/ {print $(NF-1); exit}' "$d/node$n.klog")
    check "rfl-cluster3: node$n: dlm removed node 3 and a generation was done after it ($r)" test -n "$r"
    eval "g$n=\$r"
  done
  check "rfl-cluster3: both survivors finished the same generation after the failure ($g1, $g2)" test -n "$g1" -a "$g1" = "$g2"
  check "rfl-cluster3: every 'recover generation N jid J' after the removal has that generation and J = 2" \
    bash -c "for n in 1 2; do awk '/dlm: rls: remove member 3\$/ {r=1} r && /gdlm: rls: recover generation [0-9]+ jid [0-9]+\$/ {print \$(NF-2), \$NF}' \"$d/node\$n.klog\" || exit 1; done | awk -v g='$g1' '\$1 != g || \$2 != 2 {bad=1} END {exit bad}'"
  check "rfl-cluster3: every node anchored the journal resources ('journal anchors 3 (NL)')" \
    bash -c "for n in 1 2 3; do grep -q 'gdlm: rls: journal anchors 3 (NL)' \"$d/node\$n.klog\" || exit 1; done"
  check "rfl-cluster3: exactly one replay of jid 2 (jid=2: Replaying journal) across the survivors" \
    test "$(cat "$d/node1.klog" "$d/node2.klog" | grep -c 'gdlm: rls: jid=2: Replaying journal')" = 1
  check "rfl-cluster3: results for jid 2 are success or busy, at least one success" \
    bash -c "r=\$(cat '$d/node1.klog' '$d/node2.klog' | sed -n 's/^gdlm: rls: recover jid 2 result //p'); [ -n \"\$r\" ] && ! echo \"\$r\" | grep -qvE '^(success|busy)\$' && echo \"\$r\" | grep -q '^success\$'"
  local s1 s2 s d1 d2
  s1=$(rdlm_t "$d/node1.stamped" 'gdlm: rls: recover jid 2 result success')
  s2=$(rdlm_t "$d/node2.stamped" 'gdlm: rls: recover jid 2 result success')
  s=$(printf '%s\n' $s1 $s2 | sort -n | head -1)
  d1=$(rdlm_t "$d/node1.stamped" "gdlm: rls: recover generation $g1 done\$")
  d2=$(rdlm_t "$d/node2.stamped" "gdlm: rls: recover generation $g1 done\$")
  check "rfl-cluster3: no survivor's recovery generation is done before the first success (host clock: success $s, done $d1 $d2)" \
    bash -c "[ -n '$s' ] && [ -n '$d1' ] && [ -n '$d2' ] && awk -v s='$s' -v a='$d1' -v b='$d2' 'BEGIN {exit !(s <= a + 0.5 && s <= b + 0.5)}'"
  check "rfl-cluster3: survivors' status right after the recovery (before either leaves): unblocked, no jid bits, control LVB generation = that generation" \
    bash -c "for n in 1 2; do awk '/^GDLM-STATUS fsname rls/ {l=\$0} /RECOVERY SEEN/ {print l; exit}' \"$d/node\$n.log\" | grep -qE 'blocked 0 .*control_lvb_gen $g1 jids - ' || exit 1; done"
  for n in 1 2; do
    check "rfl-cluster3: node$n unmounted (dlm_release_lockspace 0) and rmmod" \
      bash -c "grep -q 'gdlm: rls: dlm_release_lockspace 0' '$d/node$n.klog' && grep -q 'RFL REMOVED' '$d/node$n.harness'"
  done
  check "rfl-cluster3: no engine event refused before the release (the DLM's recover_prep inside dlm_release_lockspace finds the engine finished: refused, as in the C glue)" bash -c "! grep 'event refused' '$d'/node[123].klog | grep -vqE 'does not fit phase (Down|Failed|Withdrawn)'"
  check "rfl-cluster3: no kernel BUG/oops/warning on the survivors" bash -c "! grep -qE 'BUG:|Oops|Call Trace|Kernel panic|WARNING:' '$d/node1.dmesg' '$d/node2.dmesg'"
}
