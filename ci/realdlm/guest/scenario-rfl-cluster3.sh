# rfl-cluster3: gdlm_rfl.ko (Rust for Linux) on three Linux 7.2 nodes in one module-only
# lockspace rls (recovery=success: a journal lock's LVB stands for the journal), mounted in node
# order (jids 0, 1, 2); the host kills node 3, whose journal lock the DLM then marks invalid
# (it held it EX): the survivors recover jid 2, then write, unmount and rmmod.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
. /opt/gdlm/guest/kmod.sh
log "scenario rfl-cluster3 node $N"
if insmod /opt/gdlm/bin/gdlm_rfl.ko; then log "RFL LOADED"; else log "RFL insmod FAILED"; exit 1; fi
# node N mounts once N-1 nodes are in the lockspace's group, plus 2 s (jids 0, 1, 2)
wait_members rls $((N - 1)) 150 || log "rls has only $(ls_members rls) members"
[ "$N" -gt 1 ] && sleep 2
gctl mount gdlm:rls recovery=success journals=3 && log "RFL MOUNTED rls"
# LVB hand-off through test locks (gdlm-core's Glock): node 1 holds 2,100 EX with an LVB; nodes
# 2 and 3 ask SH, which BASTs node 1 (demote EX -> SH writes the LVB). Ordered by the LVB's
# value, not by time: a reader that came first retries after UN (its own BAST lets node 1 in).
if [ "$N" = 1 ]; then
  gctl lock rls 2 100 EX lvb=from-node1 && log "RFL EX 2,100"
else
  end=$((SECONDS + 90))
  while [ $SECONDS -lt $end ]; do
    gctl lock rls 2 100 SH
    [ "$(glvb rls 2,100)" = from-node1 ] && break
    gctl lock rls 2 100 UN
    sleep 1
  done
  log "LVB 2,100 on node$N: '$(glvb rls 2,100)'"
fi
wait_members rls 3 150 || log "rls has only $(ls_members rls) members"
# everyone finished node 3's join before the kill
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ] && ! grep -q 'blocked 0 ' "$GSTATUS"; do sleep 0.5; done
sleep 3
gstatus
if [ "$N" = 3 ]; then
  log "NODE3 READY TO DIE"
  sleep 600
  exit 0
fi
end=$((SECONDS + 300))
while [ $SECONDS -lt $end ] && [ "$(members)" -ge 3 ]; do sleep 0.3; done
log "corosync members now $(members)"
wait_after_removal rls 3 'gdlm: rls: recover generation [0-9]+ done' 150 && log "rls recovered after node3"
# the replayer's unlock (and a busy survivor's retry after HZ) may still be running
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ] && ! grep -qE 'blocked 0 .* jids - ' "$GSTATUS"; do sleep 0.5; done
gstatus
log "RECOVERY SEEN"
# stay in the lockspace until the other survivor is done with the recovery (a busy result is
# retried after HZ) and has taken its status: a leave before would start another generation,
# which that status would show (the journal stand-in's LVB itself is kept by every node's NL
# anchors). Ordered, not timed: node 1 marks its status taken in 2,300's LVB (kept by its NL
# lock) and leaves after node 2 has left; node 2 leaves once it has read that mark (bounded).
if [ "$N" = 1 ]; then
  mark_lvb rls 2 300 seen-node1
  end=$((SECONDS + 120))
  while [ $SECONDS -lt $end ] && [ "$(ls_members rls)" -gt 1 ]; do sleep 0.3; done
  log "rls has $(ls_members rls) members (wanted 1: node 2 left)"
else
  wait_lvb_mark rls 2 300 seen-node1 90
fi
gstatus
gctl unmount rls && log "RFL UNMOUNTED rls"
rmmod gdlm_rfl && log "RFL REMOVED"
