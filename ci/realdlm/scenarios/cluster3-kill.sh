# cluster3-kill (host side): gfs2 on a shared disk mounted by three VMs; node 3's qemu is
# killed (SIGKILL) once all three are mounted; the survivors must recover its journal.
# The survivors' gfs2/dlm recovery lines are kept in DIR/kernel-recovery-nodeN.log and
# DIR/gfs2-reference.log (lock_dlm lines of all nodes, each prefixed "nodeN ") and
# DIR/gfs2-recovery-survivors.log (the recovery lines gdlm's own logging is compared with);
# DIR/glock-lock-time-nodeN.txt: gfs2's DLM request-to-reply times (`gdlm-sim latency`).
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# gdlm status checks over DIR/status.txt (the GDLM-STATUS lines of every node)
# every run left the DLM's join and recovery counts as they were (at least 4 runs)
_ck_status_quiet() {
  awk '/^GDLM-STATUS / {n++; for (i = 1; i <= NF; i++) if ($i ~ /^(joins|recovers)=/) {
    split(substr($i, index($i, "=") + 1), c, ","); if (c[1] != c[2]) bad = 1 } }
    END {exit !(n >= 4 && !bad)}' "$1"
}
# PHASE NODE JIDS-REGEX: that node ran it; its run shows the DLM generation gfs2 logged there
# (if it logged one), and if it decoded the control_lock LVB (it masters the resource; node 1
# always does: it mounted first and holds control_lock NL throughout) that generation with
# those jids
_ck_status_gen() {
  awk -v ph="$2" -v nd="$3" -v jre="$4" '
    $2 == "phase=" ph && $3 == "node=" nd {
      n++
      g = substr($4, 12); if (g !~ /^[0-9]+$/) next # that node logged no such line
      dlm = index($0, "\"dlm\":{") ? substr($0, index($0, "\"dlm\":{")) : ""
      sub(/}.*/, "", dlm)
      if (dlm !~ "\"generation\":" g "(,|$)") bad = 1
      if (index($0, "\"lvb\":{\"source\":\"debugfs\"")) {
        if ($0 !~ "\"lvb\":[{]\"source\":\"debugfs\",\"generation\":" g ",\"disabled\":false,\"jids\":" jre) bad = 1
        lvb = 1
      }
    }
    END {exit !(n >= 1 && !bad && (nd != 1 || lvb))}' "$1"
}
# the generations in the survivors' 'recover generation N jid 2' lines and first 'recover
# generation N done' after node 3's removal: exactly one
_c3k_one_gen() {
  local n
  for n in 1 2; do
    awk '/dlm: gfs1: remove member 3/ {r=1}
      r && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ jid 2$/ {print $(NF-2)}
      r && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done$/ {print $(NF-1); exit}' "$1/node$n.dmesg"
  done | sort -u | wc -l | grep -qx 1
}

scenario_main() {
  local d=$1 t n tk
  rdlm_gfs2_disk "$d" cluster3-kill || return 1
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN"
  rdlm_net_up 3 || { check "cluster3-kill: network namespace" false; return 1; }
  t=$(date +%s.%N)
  for n in 1 2 3; do rdlm_vm_start "$d" $n 3 cluster3-kill "${RDLM_SHARED[@]}"; done
  unset RDLM_APPEND
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 240 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  local killed=0
  if rdlm_wait_log "$d/node3.log" 'NODE3 READY TO DIE' 200 3 &&
    rdlm_wait_log "$d/node1.log" 'MOUNTED gfs2' 30 1 && rdlm_wait_log "$d/node2.log" 'MOUNTED gfs2' 30 2 &&
    rdlm_wait_log "$d/node1.log" 'GDLM-INSPECT phase=before' 90 1; then
    say "all mounted after $(elapsed "$t") s; killing node3 (qemu pid ${RDLM_VMPID[3]})"
    tk=$(date +%s.%N)
    rdlm_vm_kill 3 KILL
    killed=1
  else
    say "the three nodes did not all mount in time"
  fi
  if [ $killed = 1 ]; then
    rdlm_wait_log "$d/node1.log" 'RECOVERY SEEN' 150 1 && say "node1 saw recovery $(elapsed "$tk") s after the kill"
    rdlm_wait_log "$d/node2.log" 'RECOVERY SEEN' 30 2 && say "node2 saw recovery $(elapsed "$tk") s after the kill"
  fi
  rdlm_vm_wait 1 120
  rdlm_vm_wait 2 60
  rdlm_vm_kill 3 KILL
  say "3 VMs wall time $(elapsed "$t") s"
  for n in 1 2 3; do rdlm_split "$d" $n; done
  # gfs2_glock_lock_time events and the rsb masters (guest/lib.sh trace_*), for
  # `gdlm-sim latency DIR`; "GDLM-TRACE not available" where the kernel had no tracepoint
  for n in 1 2 3; do
    grep -aE '^GDLM-(TRACE|TRACEFMT|RSB) ' "$d/node$n.log" | tr -d '\r' >"$d/glock-lock-time-node$n.txt"
    [ -s "$d/glock-lock-time-node$n.txt" ] || echo "GDLM-TRACE not available" >"$d/glock-lock-time-node$n.txt"
  done
  for n in 1 2; do
    grep -E 'gfs2: fsid=gdlm:gfs1|dlm: gfs1:' "$d/node$n.dmesg" >"$d/kernel-recovery-node$n.log"
  done
  # the exact lock_dlm lines (recover_done / control step / journal recovery)
  local re='gfs2: fsid=gdlm:gfs1(\.[0-9]+)?: (recover generation|recover jid|jid=2: |first mounter|Joined cluster|first mount done)'
  for n in 1 2 3; do grep -E "$re" "$d/node$n.dmesg" | sed "s/^/node$n /"; done >"$d/gfs2-reference.log"
  grep -E '^node[12] .*(recover (generation|jid)|jid=2: )' "$d/gfs2-reference.log" >"$d/gfs2-recovery-survivors.log"
  sed 's/^/    /' "$d/gfs2-recovery-survivors.log" >&2

  check "cluster3-kill: node 3 was killed after all three mounted" test $killed = 1
  for n in 1 2 3; do
    check "cluster3-kill: node$n mounted gfs2" grep -q 'MOUNTED gfs2' "$d/node$n.harness"
  done
  # gdlm inspect (control_lock LVB read through gdlm-linux) against gfs2's own dmesg
  grep -ah '^GDLM-INSPECT ' "$d"/node[12].log | tr -d '\r' >"$d/inspect.txt"
  grep -ah '^GDLM inspect(' "$d"/node[12].log | tr -d '\r' >>"$d/inspect.txt"
  sed 's/^/    /' "$d/inspect.txt" >&2
  check "cluster3-kill: gdlm inspect before the kill: LVB generation = gfs2's last 'recover generation N done', no jids" \
    grep -qE '^GDLM-INSPECT phase=before node=1 dmesg_gen=([0-9]+) \{"lockspace":"gfs1","generation":\1,"disabled":false,"jids":\[\],.*"mounted":true' "$d/inspect.txt"
  for n in 1 2; do
    check "cluster3-kill: node$n gdlm inspect after recovery: LVB generation = gfs2's 'recover generation N done', no jids" \
      grep -qE "^GDLM-INSPECT phase=after node=$n dmesg_gen=([0-9]+) \\{\"lockspace\":\"gfs1\",\"generation\":\\1,\"disabled\":false,\"jids\":\\[\\],.*\"mounted\":true" "$d/inspect.txt"
  done
  check "cluster3-kill: gdlm inspect while journal 2's lock was held: LVB generation = gfs2's 'recover generation N jid 2', jid bit 2 set" \
    grep -qE '^GDLM-INSPECT phase=during node=1 dmesg_gen=([0-9]+) \{"lockspace":"gfs1","generation":\1,"disabled":false,"jids":\[2\],.*"mounted":true' "$d/inspect.txt"
  # gdlm status: no lock, no join; what the kernel publishes, against gfs2's own lines
  grep -ah '^GDLM-STATUS ' "$d"/node[123].log | tr -d '\r' >"$d/status.txt"
  grep -ah '^GDLM status(' "$d"/node[123].log | tr -d '\r' >>"$d/status.txt"
  sed 's/^/    /' "$d/status.txt" >&2
  check "cluster3-kill: gdlm status joined nothing and triggered no DLM recovery (join and dlm_recover counts unchanged over every run)" \
    _ck_status_quiet "$d/status.txt"
  check "cluster3-kill: gdlm status on node 3 before its mount: not a member (exit 3), nothing joined" \
    grep -qE '^GDLM-STATUS phase=nonmember node=3 gen_logged=none rc=3 joins=0,0 recovers=0,0 .*"member":false' "$d/status.txt"
  check "cluster3-kill: gdlm status on node 1 during the hold: DLM generation = gfs2's 'recover generation N jid 2'; control_lock LVB from debugfs: generation N, jid bit 2" \
    _ck_status_gen "$d/status.txt" during 1 '\\[2\\]'
  check "cluster3-kill: gdlm status on node 2 during the hold: DLM generation = gfs2's 'recover generation N jid 2' if node 2 logged it (LVB, if shown, consistent)" \
    _ck_status_gen "$d/status.txt" during 2 '\\[2?\\]'
  for n in 1 2; do
    check "cluster3-kill: node$n gdlm status after recovery: DLM generation = gfs2's 'recover generation N done' (LVB, if shown, generation N, no jids)" \
      _ck_status_gen "$d/status.txt" after $n '\\[\\]'
  done
  check "cluster3-kill: a user-space EX on journal 2's lock (gdlm-linux-smoke hold) was granted once node 3's locks were purged" \
    grep -q 'GDLM hold: HOLD granted' "$d/node1.log"
  check "cluster3-kill: gfs2 found journal 2 busy while it was held (recover jid 2 result busy)" \
    grep -qE 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover jid 2 result busy' "$d/kernel-recovery-node1.log" "$d/kernel-recovery-node2.log"
  check "cluster3-kill: the hold was released (then gfs2 recovered jid 2)" grep -q 'GDLM hold: HOLD released' "$d/node1.log"
  check "cluster3-kill: node3 held jid 2" grep -q 'MOUNTED gfs2 jid=2 ' "$d/node3.harness"
  check "cluster3-kill: node1 was the first mounter" grep -q 'gfs2: fsid=gdlm:gfs1: first mounter control generation 0' "$d/node1.dmesg"
  for n in 1 2; do
    check "cluster3-kill: node$n dlm removed member 3" grep -q 'dlm: gfs1: remove member 3' "$d/node$n.dmesg"
    check "cluster3-kill: node$n gfs2 'recover generation N done' after the removal" \
      awk '/dlm: gfs1: remove member 3/ {r=1} r && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done/ {d=1} END {exit !d}' "$d/node$n.dmesg"
    check "cluster3-kill: node$n wrote to gfs2 after recovery" grep -q 'gfs2 write after recovery ok' "$d/node$n.harness"
    check "cluster3-kill: node$n unmounted" grep -q 'gfs2 umounted' "$d/node$n.harness"
  done
  # Orderings lock_dlm allows (gfs2_control_func, gfs2_recover_func): either survivor may
  # write the failure's generation and jid bit first; one that runs its control step after
  # the other's replay finds the bit clear (no 'jid 2' line, straight to 'done'); one whose
  # TRY comes after the replayer released the journal lock but before it cleared the bit finds
  # the journal clean and also reports success. So: at least one 'jid 2' line, one generation
  # throughout, exactly one dirty replay, results only success or busy.
  check "cluster3-kill: a survivor logged gfs2 'recover generation N jid 2'" \
    grep -qE 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ jid 2$' "$d/gfs2-reference.log"
  check "cluster3-kill: one generation: every survivor's 'recover generation N jid 2' and first 'done' after the removal have the same N" \
    _c3k_one_gen "$d"
  check "cluster3-kill: exactly one dirty replay of jid 2 ('jid=2: Replaying journal' once on the survivors)" \
    bash -c "[ \$(cat '$d/kernel-recovery-node1.log' '$d/kernel-recovery-node2.log' | grep -c 'jid=2: Replaying journal') = 1 ]"
  check "cluster3-kill: jid 2 results: at least one 'recover jid 2 result success', the others success (journal found clean) or busy" \
    bash -c "cat '$d/kernel-recovery-node1.log' '$d/kernel-recovery-node2.log' | grep -q 'recover jid 2 result success' && ! cat '$d/kernel-recovery-node1.log' '$d/kernel-recovery-node2.log' | grep 'recover jid 2 result' | grep -qvE 'result (success|busy)\$'"
  check "cluster3-kill: the replaying survivor logged 'jid=2: Done'" grep -qE 'gfs2: fsid=gdlm:gfs1\.[0-9]+: jid=2: Done' "$d/gfs2-reference.log"
  # nobody unblocks before the replay: on the host's clock (serial lines stamped as read),
  # each survivor's first 'done' after the removal comes after the first 'result success'
  local tr ts td
  tr=$(rdlm_t "$d/node1.stamped" 'dlm: gfs1: remove member 3')
  ts=$(for n in 1 2; do rdlm_t "$d/node$n.stamped" 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover jid 2 result success' "$tr"; done | sort -n | head -1)
  for n in 1 2; do
    td=$(rdlm_t "$d/node$n.stamped" 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done' "$tr")
    echo "node$n: removal $tr, first success $ts, done $td" >>"$d/host-clock.txt"
    check "cluster3-kill: node$n unblocked after the replay (host clock: its 'recover generation N done' not before the first 'result success')" \
      rdlm_before "$ts" "$td"
  done
  rm -f "$d/shared.img"
}
