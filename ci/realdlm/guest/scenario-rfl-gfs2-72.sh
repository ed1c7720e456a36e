# rfl-gfs2-72: gdlm_rfl.ko (Rust for Linux) in a real GFS2 lockspace on three Linux 7.2 nodes:
# gfs2 (table gdlm:gfs1, shared disk) mounted on nodes 1 and 2 (jids 0, 1), the module on node 3
# (recovery=gaveup: it never writes the disk, so it gives other journals up). The host kills
# node 2 (a gfs2 node with a dirty journal): gfs2 on node 1 replays jid 1; the module must not
# unblock before that. Then the module unmounts cleanly, mounts again (the DLM gives it the lowest
# free slot: node 2's, so jid 1) and the host kills node 3: gfs2 on node 1 (quorate alone:
# gdlm.votes1=3) recovers the module's jid, which is clean.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
. /opt/gdlm/guest/kmod.sh
log "scenario rfl-gfs2-72 node $N"
dev=$(disk_by_serial gdlm-shared) || { log "no shared disk"; exit 1; }
if insmod /opt/gdlm/bin/gdlm_rfl.ko; then log "RFL LOADED"; else log "RFL insmod FAILED"; exit 1; fi
mkdir -p /mnt/gfs2
wait_members gfs1 $((N - 1)) 150 || log "gfs1 has only $(ls_members gfs1) members"
[ "$N" -gt 1 ] && sleep 2
if [ "$N" = 3 ]; then
  gctl mount gdlm:gfs1 recovery=gaveup journals=3 && log "RFL MOUNTED gfs1"
else
  timeout 120 mount -t gfs2 "$dev" /mnt/gfs2 && log "MOUNTED gfs2"
  echo "hello from node$N" >/mnt/gfs2/node$N.txt && sync
fi
wait_members gfs1 3 150 || log "gfs1 has only $(ls_members gfs1) members"
sleep 5
[ "$N" = 3 ] && gstatus
log "ALL MOUNTED"
if [ "$N" = 2 ]; then
  # dirty the journal without a sync, then wait to be killed
  for i in $(seq 1 20); do echo "node2 line $i" >>/mnt/gfs2/node2.txt; done
  mkdir -p /mnt/gfs2/dir2 && touch /mnt/gfs2/dir2/a /mnt/gfs2/dir2/b
  log "NODE2 READY TO DIE"
  sleep 600
  exit 0
fi
end=$((SECONDS + 300))
while [ $SECONDS -lt $end ] && [ "$(members)" -ge 3 ]; do sleep 0.3; done
log "corosync members now $(members)"
if [ "$N" = 1 ]; then
  wait_after_removal gfs1 2 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done' 150 && log "gfs1 recovered after node2"
  if echo "node1 after recovery" >>/mnt/gfs2/node1.txt && sync; then log "gfs2 write after recovery ok"; fi
  log "RECOVERY SEEN"
  # 2. the module leaves cleanly, mounts again, and is killed (corosync loses node 3)
  end=$((SECONDS + 300))
  while [ $SECONDS -lt $end ] && [ "$(members)" -ge 2 ]; do sleep 0.3; done
  log "corosync members now $(members)"
  end=$((SECONDS + 150))
  while [ $SECONDS -lt $end ] && [ "$(dmesg | grep -c 'dlm: gfs1: remove member 3$')" -lt 2 ]; do sleep 0.5; done
  # the module's jid after its re-mount is the lowest free slot's (node 2's slot is free: jid 1)
  end=$((SECONDS + 150))
  while [ $SECONDS -lt $end ] && ! dmesg | awk '/dlm: gfs1: remove member 3$/ {n++} n >= 2 && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover jid [0-9]+ result/ {d=1} END {exit !d}'; do sleep 0.5; done
  sleep 3
  if echo "node1 after recovery 2" >>/mnt/gfs2/node1.txt && sync; then log "gfs2 write after recovery 2 ok"; fi
  timeout 60 umount /mnt/gfs2 && log "gfs2 umounted"
  log "RECOVERY2 SEEN"
else
  wait_after_removal gfs1 2 'gdlm: gfs1: recover generation [0-9]+ done' 150 && log "gfs1 recovered after node2"
  # a busy result is retried after HZ until gfs2 has replayed jid 1 and cleared its bit
  end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ] && ! grep -qE 'blocked 0 .* jids - ' "$GSTATUS"; do sleep 0.5; done
  gstatus
  log "RECOVERY SEEN"
  # a clean leave (gfs2 recovers nothing), a mount again with jid 2, then the host's kill:
  # gfs2 recovers jid 2 and finds it clean (the module never writes the disk)
  gctl unmount gfs1 && log "RFL UNMOUNTED gfs1"
  sleep 3
  gctl mount gdlm:gfs1 recovery=gaveup journals=3 && log "RFL REMOUNTED gfs1"
  sleep 3
  gstatus
  log "SHARED DISK node3 writes=$(awk '{print $5}' "/sys/block/${dev#/dev/}/stat")"
  log "NODE3 READY TO DIE"
  sleep 600
  exit 0
fi
