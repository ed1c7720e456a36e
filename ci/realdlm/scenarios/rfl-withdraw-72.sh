# rfl-withdraw-72 (host side): gdlm_rfl.ko's withdraw on three Linux 7.2 nodes (see
# guest/scenario-rfl-withdraw-72.sh): node 3's module gets Event::Withdraw in the module-only
# lockspace rwd and must release with DLM_RELEASE_RECOVER; whether the survivors see a failure
# depends on dlm_controld (sid's 4.3.0 does not pass DLM_RELEASE_RECOVER on: a clean leave),
# detected as in withdraw-72, whose checks (wd_checks, wd_rr_supported) this reuses: every
# ordering the protocol allows, at most one replay, nobody unblocks before it.
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
# rdlm-rfl
. "$RDLM_HERE/scenarios/withdraw-72.sh"
scenario_main() {
  local d=$1 t n
  t=$(date +%s.%N)
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN"
  rdlm_net_up 3 || { check "rfl-withdraw-72: network namespace" false; return 1; }
  for n in 1 2 3; do RDLM_IMG=sid rdlm_vm_start "$d" $n 3 rfl-withdraw-72; done
  unset RDLM_APPEND
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 240 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  rdlm_wait_log "$d/node3.log" 'GDLM\[[0-9.]+\] RFL WITHDRAWN rwd' 300 3 && say "node3's module withdrawn after $(elapsed "$t") s"
  rdlm_vm_wait 3 120
  rdlm_vm_wait 2 240
  rdlm_vm_wait 1 240
  say "3 VMs wall time $(elapsed "$t") s"
  : >"$d/host-clock.txt"
  for n in 1 2 3; do
    rdlm_split "$d" $n
    rdlm_klog "$d" $n
  done
  for n in 1 2 3; do
    grep -E 'gdlm: rwd: (recover generation|recover jid|jid=|mounted|release option|withdraw|.*ignored)|dlm: rwd: remove member' "$d/node$n.klog" | sed "s/^/node$n /"
  done >"$d/withdraw-recovery.log"
  sed 's/^/    /' "$d/withdraw-recovery.log" >&2
  rwd_all_checks "$d"
}

# every check, on the results in D (callable on an earlier run's folder)
rwd_all_checks() {
  local d=$1 n k3=$d/node3.klog
  RDLM_WD_RR=$(wd_rr_supported)
  echo "dlm_controld passes DLM_RELEASE_RECOVER on: $RDLM_WD_RR (dlm-controld $(chroot "$RDLM_CACHE/sid/rootfs" dpkg-query -W -f '${Version}' dlm-controld 2>/dev/null))" >"$d/release-recover.txt"
  say "$(cat "$d/release-recover.txt")"
  for n in 1 2 3; do check "rfl-withdraw-72: node$n loaded gdlm_rfl.ko on 7.2" \
    grep -qE 'RFL LOADED \(7\.2\.' "$d/node$n.harness"; done
  check "rfl-withdraw-72: rwd mounted with jids 0, 1, 2 on nodes 1, 2, 3" \
    bash -c "grep -q 'gdlm: rwd: mounted jid 0 first 1' '$d/node1.klog' && grep -q 'gdlm: rwd: mounted jid 1 first 0' '$d/node2.klog' && grep -q 'gdlm: rwd: mounted jid 2 first 0' '$k3'"
  check "rfl-withdraw-72: the module on node3 withdrew and released with DLM_RELEASE_RECOVER (release option 4, dlm_release_lockspace 0)" \
    bash -c "grep -q 'RFL WITHDRAWN rwd' '$d/node3.harness' && grep -q 'gdlm: rwd: release option 4\$' '$k3' && awk '/gdlm: rwd: release option 4\$/ {r=1} r && /gdlm: rwd: dlm_release_lockspace 0\$/ {ok=1} END {exit !ok}' '$k3'"
  RDLM_CHECK_RENAME="withdraw-72:=rfl-withdraw-72:" wd_checks "$d" rwd 'gdlm: rwd' "rwd (gdlm_rfl.ko's withdraw)"
  if [ "$RDLM_WD_RR" = 1 ]; then
    check "rfl-withdraw-72: the survivors logged the recovery kinds of a failure ('recover generation N jid 2', 'recover jid 2 result success', 'recover generation N done')" \
      bash -c "cat '$d/node1.klog' '$d/node2.klog' | grep -qE '^gdlm: rwd: recover generation [0-9]+ jid 2\$' && cat '$d/node1.klog' '$d/node2.klog' | grep -q '^gdlm: rwd: recover jid 2 result success'"
  fi
  check "rfl-withdraw-72: the module ignored the recovery callbacks it got after its withdraw (none refused, no recovery line, any recover_* line '... ignored due to withdraw.')" \
    bash -c "! awk '/gdlm: rwd: withdraw\$/ {w=1} w' '$k3' | grep -qE 'gdlm: rwd: (recover generation|recover jid|event refused)' && ! awk '/gdlm: rwd: withdraw\$/ {w=1} w' '$k3' | grep -E 'gdlm: rwd: (recover_prep|recover_slot|recover_done|recovery_result)' | grep -qv 'ignored due to withdraw[.]\$'"
  check "rfl-withdraw-72: node1 and node2 locked rwd afterwards" \
    bash -c "grep -q 'rwd lock after the withdraw ok' '$d/node1.harness' && grep -q 'rwd lock after the withdraw ok' '$d/node2.harness'"
  for n in 1 2 3; do check "rfl-withdraw-72: node$n unmounted or withdrew, then rmmod" \
    bash -c "grep -qE 'RFL (UNMOUNTED|WITHDRAWN) rwd' '$d/node$n.harness' && grep -q 'RFL REMOVED' '$d/node$n.harness'"; done
  check "rfl-withdraw-72: no kernel BUG/oops/warning on any node" bash -c "! grep -aqE 'BUG:|Oops|Call Trace|Kernel panic|WARNING:' '$d'/node[123].dmesg"
}
