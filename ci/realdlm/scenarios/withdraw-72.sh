# withdraw-72 (host side): a withdraw on Linux 7.2 (see guest/scenario-withdraw-72.sh): real
# gfs2 on sid node 3 withdraws from gfs1 through its sysfs `withdraw` file (7.2's
# gfs2_withdraw_func: lm_unmount(sdp, false), DLM_RELEASE_RECOVER), then gdlm.ko on node 3
# gets Event::Withdraw for the module-only lockspace kwd. No node is killed: the survivors
# (nodes 1, 2; real gfs2 in gfs1, the module in kwd) must treat each leave as a failure and
# recover jid 2, in any order the protocol allows, and nobody unblocks before the replay.
# The module's release option and its survivors' lines are set against real gfs2's.
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid

# wd_checks D LS DONE_RE RESULT_PREFIX: the survivors' recovery of jid 2 in lockspace LS after
# node 3's leave, in every ordering lock_dlm allows (as cluster3-kill's checks)
wd_checks() {
  local d=$1 ls=$2 pre=$3 what=$4 g1 g2 n ts td
  local k1=$d/node1.klog k2=$d/node2.klog
  g1=$(awk -v a="dlm: $ls: remove member 3\$" -v b="^$pre: recover generation [0-9]+ done\$" '$0 ~ a {r=1} r && $0 ~ b {print $(NF-1); exit}' "$k1")
  g2=$(awk -v a="dlm: $ls: remove member 3\$" -v b="^$pre: recover generation [0-9]+ done\$" '$0 ~ a {r=1} r && $0 ~ b {print $(NF-1); exit}' "$k2")
  check "withdraw-72: $what: node1 and node2: dlm removed member 3 from $ls, then 'recover generation N done' with the same N (${g1:-?}, ${g2:-?})" \
    bash -c "grep -q 'dlm: $ls: remove member 3\$' '$k1' && grep -q 'dlm: $ls: remove member 3\$' '$k2' && [ -n '$g1' ] && [ '$g1' = '$g2' ]"
  if [ "$RDLM_WD_RR" = 0 ]; then
    # dlm_controld does not pass DLM_RELEASE_RECOVER on (the kernel's offline uevent carries
    # RELEASE_RECOVER=1, the survivors' dlm_controld would have to set the member's
    # configfs release_recover): the leave is a clean one to the survivors
    check "withdraw-72: $what: dlm_controld without DLM_RELEASE_RECOVER support: the survivors handled the leave as a clean one (no 'recover generation N jid 2', no result for jid 2, no replay)" \
      bash -c "! cat '$k1' '$k2' | grep -qE '^$pre: (recover generation [0-9]+ jid 2\$|recover jid 2 result|jid=2: Replaying)'"
    return 0
  fi
  check "withdraw-72: $what: handled as a failure: a survivor logged 'recover generation ${g1:-?} jid 2' (a clean leave has no jid line)" \
    bash -c "cat '$k1' '$k2' | grep -qE '^$pre: recover generation ${g1:-x} jid 2\$'"
  check "withdraw-72: $what: at most one replay of jid 2, at least one 'recover jid 2 result success', every result success or busy" \
    bash -c "[ \$(cat '$k1' '$k2' | grep -cE '^$pre: jid=2: Replaying journal') -le 1 ] && cat '$k1' '$k2' | grep -qE '^$pre: recover jid 2 result success' && ! cat '$k1' '$k2' | grep -E '^$pre: recover jid 2 result' | grep -qvE 'result (success|busy)\$'"
  ts=$(rdlm_t "$d/node1.stamped" "$pre: recover jid 2 result success" 2>/dev/null)
  local t2
  t2=$(rdlm_t "$d/node2.stamped" "$pre: recover jid 2 result success" 2>/dev/null)
  if [ -z "$ts" ] || { [ -n "$t2" ] && awk -v a="$t2" -v b="$ts" 'BEGIN {exit !(a < b)}'; }; then ts=$t2; fi
  for n in 1 2; do
    td=$(rdlm_t "$d/node$n.stamped" "$pre: recover generation ${g1:-x} done" "$(rdlm_t "$d/node$n.stamped" "dlm: $ls: remove member 3\$")")
    echo "$what node$n: first success $ts, done $td" >>"$d/host-clock.txt"
    check "withdraw-72: $what: node$n unblocked after the replay (host clock: its 'recover generation ${g1:-?} done' not before the first 'recover jid 2 result success')" \
      rdlm_before "$ts" "$td"
  done
}

# 1 when the sid image's dlm_controld passes DLM_RELEASE_RECOVER on (it names the uevent's
# RELEASE_RECOVER variable); dlm 4.3.0 does not
wd_rr_supported() { grep -qa 'RELEASE_RECOVER' "$RDLM_CACHE/sid/rootfs/usr/sbin/dlm_controld" && echo 1 || echo 0; }

scenario_main() {
  local d=$1 t n RDLM_IMG=sid
  t=$(date +%s.%N)
  rdlm_gfs2_disk "$d" withdraw-72 || return 1
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN gdlm.votes1=3"
  rdlm_net_up 3 || { check "withdraw-72: network namespace" false; return 1; }
  for n in 1 2 3; do rdlm_vm_start "$d" $n 3 withdraw-72 "${RDLM_SHARED[@]}"; done
  unset RDLM_APPEND
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 240 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  rdlm_wait_log "$d/node3.log" 'GDLM\[[0-9.]+\] GFS2 WITHDRAWN' 420 3 && say "node3's gfs2 withdrawn after $(elapsed "$t") s"
  rdlm_vm_wait 3 300
  rdlm_vm_wait 2 240
  rdlm_vm_wait 1 240
  say "3 VMs wall time $(elapsed "$t") s"
  : >"$d/host-clock.txt"
  for n in 1 2 3; do
    rdlm_split "$d" $n
    rdlm_klog "$d" $n
  done
  for n in 1 2 3; do
    grep -E 'gdlm: kwd: (recover generation|recover jid|jid=|mounted|release option|withdraw|.*ignored)|gfs2: fsid=gdlm:gfs1(\.[0-9]+)?: (recover generation|recover jid|jid=[0-9]+: (Busy|Done|Replaying|Looking)|.*withdraw|.*ignored)|dlm: (gfs1|kwd): remove member' "$d/node$n.klog" | sed "s/^/node$n /"
  done >"$d/withdraw-recovery.log"
  sed 's/^/    /' "$d/withdraw-recovery.log" >&2
  wd_all_checks "$d"
  rm -f "$d/shared.img"
}

# every check, on the results in D (callable on an earlier run's folder)
wd_all_checks() {
  local d=$1 n
  RDLM_WD_RR=$(wd_rr_supported)
  echo "dlm_controld passes DLM_RELEASE_RECOVER on: $RDLM_WD_RR (dlm-controld $(chroot "$RDLM_CACHE/sid/rootfs" dpkg-query -W -f '${Version}' dlm-controld 2>/dev/null))" >"$d/release-recover.txt"
  say "$(cat "$d/release-recover.txt")"
  local k3=$d/node3.klog
  for n in 1 2 3; do check "withdraw-72: node$n loaded the module built for 7.2 on 7.2" \
    grep -qE 'KMOD LOADED /opt/gdlm/bin/kmod/7\.2\.[^/]*/gdlm\.ko \(7\.2\.' "$d/node$n.log"; done
  check "withdraw-72: gfs2 on nodes 1, 2, 3 mounted gfs1 with jids 0, 1, 2; the module kwd with jids 0, 1, 2" \
    bash -c "grep -q 'gfs2: fsid=gdlm:gfs1.0: jid=0, already locked for use' '$d/node1.klog' && grep -q 'gfs2: fsid=gdlm:gfs1.1: jid=1, already locked for use' '$d/node2.klog' && grep -q 'gfs2: fsid=gdlm:gfs1.2: jid=2, already locked for use' '$k3' && grep -q 'gdlm: kwd: mounted jid 0 first 1' '$d/node1.klog' && grep -q 'gdlm: kwd: mounted jid 1 first 0' '$d/node2.klog' && grep -q 'gdlm: kwd: mounted jid 2 first 0' '$k3'"
  # real gfs2's withdraw on node 3
  check "withdraw-72: gfs1: node3's gfs2 withdrew on request ('withdrawing from cluster at user's request', 'about to withdraw', 'file system withdrawn')" \
    bash -c "grep -q 'GFS2 WITHDRAW REQUESTED' '$d/node3.log' && grep -qE 'gfs2: fsid=gdlm:gfs1.2: .*withdraw.*user' '$k3' && grep -q 'gfs2: fsid=gdlm:gfs1.2: about to withdraw this file system' '$k3' && grep -q 'gfs2: fsid=gdlm:gfs1.2: file system withdrawn' '$k3'"
  check "withdraw-72: gfs1: the withdrawn node ran no journal recovery itself (7.2's withdraw guard)" \
    bash -c "! awk '/about to withdraw this file system/ {w=1} w' '$k3' | grep -qE 'gfs2: fsid=gdlm:gfs1.2: (recover generation [0-9]+ jid|recover jid [0-9]+ result)'"
  wd_checks "$d" gfs1 'gfs2: fsid=gdlm:gfs1\.[0-9]+' "gfs1 (real gfs2 withdraw)"
  check "withdraw-72: gfs1: node1 and node2 wrote gfs2 after the withdraw" \
    bash -c "grep -q 'gfs2 write after the withdraw ok' '$d/node1.log' && grep -q 'gfs2 write after the withdraw ok' '$d/node2.log'"
  # the module's withdraw on node 3 (Event::Withdraw, profile linux-7.2)
  check "withdraw-72: kwd: the module on node3 withdrew and released with DLM_RELEASE_RECOVER (release option 4, dlm_release_lockspace 0)" \
    bash -c "grep -q 'KMOD WITHDRAWN kwd' '$d/node3.log' && grep -q 'gdlm: kwd: release option 4\$' '$k3' && awk '/gdlm: kwd: release option 4\$/ {r=1} r && /gdlm: kwd: dlm_release_lockspace 0\$/ {ok=1} END {exit !ok}' '$k3'"
  wd_checks "$d" kwd 'gdlm: kwd' "kwd (the module's withdraw)"
  check "withdraw-72: kwd: node1 and node2 locked kwd afterwards" \
    bash -c "grep -q 'kwd lock after the withdraw ok' '$d/node1.log' && grep -q 'kwd lock after the withdraw ok' '$d/node2.log'"
  # the engine's linux-7.2 withdraw against real 7.2 gfs2's: the survivors' line kinds for
  # jid 2 (generation numbers dropped) are the same set in both lockspaces; the busy kinds
  # ('jid=2: Busy', 'recover jid 2 result busy') are left out: whether a survivor's TRY comes
  # while the other replays is timing, in each lockspace apart (wd_checks: every result
  # success or busy; cluster3-kill.sh's orderings)
  local fg fk
  fg=$(awk 'FNR == 1 {r=0} /dlm: gfs1: remove member 3$/ {r=1} r && /^gfs2: fsid=gdlm:gfs1\.[0-9]+: (recover generation [0-9]+ (jid 2|done)|recover jid 2 result|jid=2: (Replaying|Done|Busy|Looking))/' "$d/node1.klog" "$d/node2.klog" | sed -E 's/^gfs2: fsid=gdlm:gfs1\.[0-9]+: //; s/generation [0-9]+/generation N/; s/(Replaying journal|Looking at journal).*/\1/' | grep -vxE 'recover jid 2 result busy|jid=2: Busy' | sort -u | tr '\n' ';')
  fk=$(awk 'FNR == 1 {r=0} /dlm: kwd: remove member 3$/ {r=1} r && /^gdlm: kwd: (recover generation [0-9]+ (jid 2|done)|recover jid 2 result|jid=2: (Replaying|Done|Busy|Looking))/' "$d/node1.klog" "$d/node2.klog" | sed -E 's/^gdlm: kwd: //; s/generation [0-9]+/generation N/; s/(Replaying journal|Looking at journal).*/\1/' | grep -vxE 'recover jid 2 result busy|jid=2: Busy' | sort -u | tr '\n' ';')
  echo "gfs1 (gfs2): $fg" >"$d/withdraw-forms.txt"
  echo "kwd (module): $fk" >>"$d/withdraw-forms.txt"
  sed 's/^/    /' "$d/withdraw-forms.txt" >&2
  check "withdraw-72: both withdraws look the same to the survivors: the kinds of their lines after 'remove member 3' (generations dropped) are the same set for real 7.2 gfs2 (gfs1) and the engine's linux-7.2 profile (kwd), busy kinds aside" \
    bash -c "[ -n '$fg' ] && [ '$fg' = '$fk' ]"
  if [ "$RDLM_WD_RR" = 1 ]; then
    check "withdraw-72: the survivors logged the recovery kinds of a failure for both ('recover generation N jid 2', 'recover jid 2 result success', 'recover generation N done')" \
      bash -c "for f in 'recover generation N jid 2;' 'recover jid 2 result success;' 'recover generation N done;'; do case '$fg' in *\"\$f\"*) ;; *) exit 1 ;; esac; done"
  fi
  check "withdraw-72: the withdrawn gfs2 ignored the recovery callbacks it got after the withdraw (7.2's guard: '... ignored due to withdraw', or none came)" \
    bash -c "! awk '/about to withdraw this file system/ {w=1} w' '$k3' | grep -E 'gfs2: fsid=gdlm:gfs1.2: (recover_prep|recover_slot|recover_done|recovery_result)' | grep -qv 'ignored due to withdraw'"
  check "withdraw-72: the module ignored the recovery callbacks it got after its withdraw (none refused, no recovery line, any recover_* line '... ignored due to withdraw.')" \
    bash -c "! awk '/gdlm: kwd: withdraw\$/ {w=1} w' '$k3' | grep -qE 'gdlm: kwd: (recover generation|recover jid|event [0-9]+ refused)' && ! awk '/gdlm: kwd: withdraw\$/ {w=1} w' '$k3' | grep -E 'gdlm: kwd: (recover_prep|recover_slot|recover_done|recovery_result)' | grep -qv 'ignored due to withdraw[.]\$'"
  local ig ik
  ig=$(sed -n 's/^gfs2: fsid=gdlm:gfs1\.2: \(.* ignored due to withdraw\.\)$/\1/p' "$k3" | sort -u | tr '\n' ';')
  ik=$(sed -n 's/^gdlm: kwd: \(.* ignored due to withdraw\.\)$/\1/p' "$k3" | sort -u | tr '\n' ';')
  echo "ignored after the withdraw: gfs2 '$ig' module '$ik'" >>"$d/withdraw-forms.txt"
  check "withdraw-72: the engine's linux-7.2 withdraw guard printed what 7.2's gfs2 printed for the callbacks of its release ('${ig:-none}')" \
    bash -c "[ '$ig' = '$ik' ]"
  check "withdraw-72: node1 unmounted kwd and gfs2, removed the module; node3 unmounted its withdrawn gfs2" \
    bash -c "grep -q 'KMOD UNMOUNTED kwd' '$d/node1.log' && grep -q 'gfs2 umounted' '$d/node1.log' && grep -q 'KMOD REMOVED' '$d/node1.log' && grep -q 'withdrawn gfs2 umounted' '$d/node3.log'"
  check "withdraw-72: no kernel BUG/oops/panic on any node" bash -c "! grep -aqE 'BUG:|Oops|Kernel panic' '$d'/node[123].log"
}
