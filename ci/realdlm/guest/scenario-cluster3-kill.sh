# cluster3-kill: gfs2 (lock_dlm, table gdlm:gfs1) on the shared disk, mounted by all three
# nodes one after another (node N mounts once N-1 nodes are in the gfs1 lockspace, so the
# journal ids are 0, 1, 2); node 3 then dirties its journal and waits to be killed by the
# host; the survivors wait (bounded) for the DLM and gfs2 to recover node 3's journal, write,
# and unmount. The kernel lines are collected from the GDLM-DMESG dump at power-off.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
log "scenario cluster3-kill node $N"
dev=$(disk_by_serial gdlm-shared) || { log "no shared disk"; exit 1; }
# Mount in node order, so that the journal ids are 0, 1, 2: node N waits (bounded) until the
# lockspace's CPG group (dlm_controld's "dlm:ls:gfs1") has N-1 members.
gfs1_members() {
  corosync-cpgtool -e 2>/dev/null | awk '/^[^ \t]/ {g = ($0 ~ /^dlm:ls:gfs1/)} /^[ \t]/ && g {n++} END {print n + 0}'
}
end=$((SECONDS + 120))
while [ $SECONDS -lt $end ] && [ "$(gfs1_members)" -lt $((N - 1)) ]; do sleep 0.3; done
log "lockspace gfs1 has $(gfs1_members) members; mounting"
[ "$N" = 3 ] && corosync-cpgtool -e 2>&1 | sed "s/^/GDLM cpg: /"
# `gdlm status gfs1` (takes no lock, joins nothing), between two counts of the DLM's own
# lines for gfs1: a join ("joining the lockspace group") or a recovery ("dlm_recover N") that
# it caused would add one. $2: the generation gfs2 logged for this phase (or none).
status_run() {
  local jb rb ja ra j rc
  jb=$(dmesg | grep -c 'dlm: gfs1: joining the lockspace group')
  rb=$(dmesg | grep -c 'dlm: gfs1: dlm_recover [0-9]*$')
  j=$(timeout 60 /opt/gdlm/bin/gdlm status gfs1 --json 2>&1)
  rc=$?
  timeout 60 /opt/gdlm/bin/gdlm status gfs1 2>&1 | sed "s/^/GDLM status($1): /"
  ja=$(dmesg | grep -c 'dlm: gfs1: joining the lockspace group')
  ra=$(dmesg | grep -c 'dlm: gfs1: dlm_recover [0-9]*$')
  echo "GDLM-STATUS phase=$1 node=$N gen_logged=${2:-none} rc=$rc joins=$jb,$ja recovers=$rb,$ra $(echo "$j" | tail -1)"
  # what it read, for fixtures (shim-linux/tests/fixtures/status)
  [ "$1" = during ] && for f in /sys/kernel/debug/dlm/gfs1_all /sys/kernel/debug/dlm/gfs1_locks \
    /sys/kernel/debug/dlm/gfs1_waiters /sys/kernel/dlm/gfs1/* /sys/fs/gfs2/*/lock_module/* \
    /sys/kernel/config/dlm/cluster/spaces/gfs1/nodes/*/* /sys/kernel/config/dlm/cluster/comms/*/nodeid \
    /sys/kernel/config/dlm/cluster/comms/*/local; do
    [ -f "$f" ] && [ -r "$f" ] && sed "s|^|GDLM-CAPTURE $f |" "$f" 2>/dev/null
  done
}
# node 3 is not in the lockspace yet: status must say so without joining it
[ "$N" = 3 ] && status_run nonmember
[ "$N" -gt 1 ] && sleep 2
mkdir -p /mnt/gfs2
trace_start
t=$(cut -d' ' -f1 /proc/uptime)
if ! timeout 120 mount -t gfs2 "$dev" /mnt/gfs2; then
  log "gfs2 mount FAILED"
  exit 1
fi
jid=$(dmesg | sed -n 's/.*gfs2: fsid=gdlm:gfs1\.\([0-9]*\): jid=[0-9]*, already locked for use.*/\1/p' | tail -1)
log "MOUNTED gfs2 jid=$jid (mount started at $t)"
echo "hello from node$N" >/mnt/gfs2/node$N.txt && sync

# `gdlm inspect gfs1`: the control_lock LVB as gdlm reads it, next to the generation of gfs2's
# last "recover generation N done" line
inspect() {
  local g j
  g=${2:-$(dmesg | sed -n 's/.*gfs2: fsid=gdlm:gfs1\.[0-9]*: recover generation \([0-9]*\) done.*/\1/p' | tail -1)}
  j=$(timeout 60 /opt/gdlm/bin/gdlm inspect gfs1 --json 2>&1 | tail -1)
  echo "GDLM-INSPECT phase=$1 node=$N dmesg_gen=${g:-none} $j"
  timeout 60 /opt/gdlm/bin/gdlm inspect gfs1 2>&1 | sed "s/^/GDLM inspect($1): /"
}
if [ "$N" = 1 ]; then
  # once all three are in the lockspace (the host kills node 3 only after this)
  end=$((SECONDS + 120))
  while [ $SECONDS -lt $end ] && [ "$(gfs1_members)" -lt 3 ]; do sleep 0.3; done
  # and until this node's gfs2 finished the generation of node 3's join ("dlm: gfs1:
  # generation N slots 3 ...", then "recover generation N done"): its control step has written
  # N to the LVB by then, whichever node's step came first
  g3() { dmesg | sed -n 's/.*dlm: gfs1: generation \([0-9]*\) slots 3 .*/\1/p' | tail -1; }
  end=$((SECONDS + 90))
  while [ $SECONDS -lt $end ]; do
    g=$(g3)
    [ -n "$g" ] && dmesg | grep -qE "gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation $g done" && break
    sleep 0.3
  done
  inspect before
  # Node 3's journal lock (LM_TYPE_JOURNAL 9, number 2), EX from user space: queued behind
  # node 3 now, granted once the DLM purges node 3's locks; held 8 s, during which gfs2's
  # recovery finds the journal busy and the jid bit stays set in the control_lock LVB.
  # Held on past the 8 s while /tmp/hold.keep exists: the inspect and status below run
  # while it is held however slow the VM (a TCG run under load took more than 8 s to get
  # there), and remove the file when done.
  touch /tmp/hold.keep
  /opt/gdlm/bin/gdlm-linux-smoke hold gfs1 9 2 8 --while-file /tmp/hold.keep >/tmp/hold.log 2>&1 &
  holder=$!
fi

if [ "$N" = 3 ]; then
  # dirty the journal without a sync, then wait to be killed
  for i in $(seq 1 20); do echo "node3 line $i" >>/mnt/gfs2/node3.txt; done
  mkdir -p /mnt/gfs2/dir3 && touch /mnt/gfs2/dir3/a /mnt/gfs2/dir3/b
  # the grant times of its mount (it is killed before the power-off dump)
  trace_rsb
  trace_dump
  log "NODE3 READY TO DIE"
  sleep 400
  exit 0
fi

# survivors: the host kills node 3 once all three are mounted
end=$((SECONDS + 300))
while [ $SECONDS -lt $end ]; do [ "$(members)" -lt 3 ] && break; sleep 0.2; done
log "corosync members now $(members)"
if [ "$N" = 1 ]; then
  end=$((SECONDS + 120))
  while [ $SECONDS -lt $end ] && ! grep -q 'HOLD granted' /tmp/hold.log; do sleep 0.2; done
  sed 's/^/GDLM hold: /' /tmp/hold.log
  # gfs2's control step sets the bit and logs "recover generation N jid 2"; while the lock is
  # held its journal recovery gives up ("result busy") and the bit stays set
  jidline() { dmesg | sed -n 's/.*gfs2: fsid=gdlm:gfs1\.[0-9]*: recover generation \([0-9]*\) jid 2$/\1/p' | tail -1; }
  end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ] && [ -z "$(jidline)" ]; do sleep 0.2; done
  grep -q 'HOLD released' /tmp/hold.log || inspect during "$(jidline)"
  grep -q 'HOLD released' /tmp/hold.log || status_run during "$(jidline)"
  grep -q 'HOLD released' /tmp/hold.log && log "HOLD released before the inspect or status"
  # and until this node's gfs2 has found journal 2 busy: having logged 'recover generation N
  # jid 2' it has queued its recovery of jid 2, whose TRY fails while the lock is held
  # ("recover jid 2 result busy", retried after HZ), so the host's busy check holds by that
  # order, not by the 8 s (bounded)
  if [ -n "$(jidline)" ]; then
    end=$((SECONDS + 60))
    while [ $SECONDS -lt $end ] && ! dmesg | grep -qE 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover jid 2 result busy'; do sleep 0.2; done
  fi
  rm -f /tmp/hold.keep
  for i in $(seq 1 300); do kill -0 $holder 2>/dev/null || break; sleep 0.2; done
  sed 's/^/GDLM hold: /' /tmp/hold.log | grep -v 'HOLD requested\|HOLD granted'
fi
if [ "$N" = 2 ]; then
  # while node 1 holds journal 2's lock gfs2 here finds it busy: look then (bounded)
  end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ] && ! dmesg | grep -q 'recover jid 2 result busy'; do sleep 0.2; done
  g=$(dmesg | sed -n 's/.*gfs2: fsid=gdlm:gfs1\.[0-9]*: recover generation \([0-9]*\) jid 2$/\1/p' | tail -1)
  status_run during "$g"
fi
# wait (bounded) for gfs2 to finish the recovery that follows node 3's removal
end=$((SECONDS + 120))
while [ $SECONDS -lt $end ]; do
  dmesg | awk '/dlm: gfs1: remove member 3/ {r=1} r && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done/ {d=1} END {exit !d}' && break
  sleep 0.5
done
log "RECOVERY SEEN $(dmesg | grep -c 'recover generation .* done') done-lines"
inspect after
status_run after "$(dmesg | sed -n 's/.*gfs2: fsid=gdlm:gfs1\.[0-9]*: recover generation \([0-9]*\) done.*/\1/p' | tail -1)"
# this node has looked: the other survivor's unmount (a new generation) may come now
touch /mnt/gfs2/after-node$N
sleep 2
if echo "node$N after recovery" >>/mnt/gfs2/node$N.txt && sync; then log "gfs2 write after recovery ok"; fi
ls /mnt/gfs2 | tr '\n' ' ' | sed 's/^/GDLM gfs2 ls: /'; echo
trace_rsb
# unmount only once the other survivor has run its inspect and status after the recovery
# (its after-nodeM mark on gfs2): this node's leave starts a generation that those would
# otherwise show instead of the recovery's (bounded, inside the 120 s the host gives node 1
# after its RECOVERY SEEN)
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ] && [ ! -e /mnt/gfs2/after-node$((3 - N)) ]; do sleep 0.3; done
[ -e /mnt/gfs2/after-node$((3 - N)) ] || log "no after-node$((3 - N)) mark: unmounting anyway"
# node 2 unmounts first, then node 1
sleep $((2 * (2 - N) + 1))
timeout 60 umount /mnt/gfs2 && log "gfs2 umounted"
trace_dump
