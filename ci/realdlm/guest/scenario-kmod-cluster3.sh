# kmod-cluster3: gdlm.ko in a real cluster of three, in two lockspaces at once.
#   gfs1 (gfs2-mixed, table gdlm:gfs1 on the shared disk): node 1 and node 2 mount gfs2
#     (jids 0, 1); node 3 joins with the module, recovery=gaveup (jid 2; never writes the disk).
#   kls (module-only, recovery=success): nodes 1, 2, 3 in that order (jids 0, 1, 2).
# In kls: node 1 holds 2,100 EX with an LVB, node 2 and node 3 read it with SH (BAST, demote),
# node 3 converts to EX and writes its own LVB, node 1 reads it back. Then the host kills node 2
# (a gfs2 node and a kls member), then node 3 (the module's node in gfs1, a kls member); node 1
# stays quorate (gdlm.votes1=3). SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
. /opt/gdlm/guest/kmod.sh
log "scenario kmod-cluster3 node $N"
dev=$(disk_by_serial gdlm-shared) || { log "no shared disk"; exit 1; }
kmod_load || exit 1
mkdir -p /mnt/gfs2
# "remove member M" in lockspace LS followed by PATTERN in the kernel log

# 1. gfs1 in node order
wait_members gfs1 $((N - 1)) 150 || log "gfs1 has only $(ls_members gfs1) members"
[ "$N" -gt 1 ] && sleep 2
if [ "$N" = 3 ]; then
  gctl mount gdlm:gfs1 recovery=gaveup journals=3 && log "KMOD MOUNTED gfs1"
  # a clean unmount: the gfs2 nodes see a leave, not a failure (no recovery of jid 2); then
  # the module mounts again and gets jid 2 back
  sleep 5
  gctl unmount gfs1 && log "KMOD UNMOUNTED gfs1"
  sleep 3
  gctl mount gdlm:gfs1 recovery=gaveup journals=3 && log "KMOD REMOUNTED gfs1"
else
  timeout 120 mount -t gfs2 "$dev" /mnt/gfs2 && log "MOUNTED gfs2"
  echo "hello from node$N" >/mnt/gfs2/node$N.txt && sync
fi

# 2. kls in node order, once all three are in gfs1
wait_members gfs1 3 150 || log "gfs1 has only $(ls_members gfs1) members"
wait_members kls $((N - 1)) 150 || log "kls has only $(ls_members kls) members"
[ "$N" -gt 1 ] && sleep 2
gctl mount gdlm:kls recovery=success && log "KMOD MOUNTED kls"

# 3. LVB traffic in kls
case $N in
  1)
    gctl lock kls 2 100 EX lvb=from-node1
    wait_members kls 3 150
    # keep EX until a reader's SH has BASTed it (the module demotes EX->SH, writing the LVB):
    # converting first would leave the readers no BAST to cause (bounded)
    wait_dmesg 'gdlm: kls: bast 2,100 mode 3: demote EX->SH' 150 || log "no EX->SH demote of 2,100 seen"
    end=$((SECONDS + 90))
    while [ $SECONDS -lt $end ]; do
      gctl lock kls 2 100 SH
      [ "$(glvb kls 2,100)" = from-node3 ] && break
      gctl lock kls 2 100 UN
      sleep 1
    done
    log "LVB 2,100 on node1: '$(glvb kls 2,100)'"
    ;;
  2)
    gctl lock kls 2 100 SH
    log "LVB 2,100 on node2: '$(glvb kls 2,100)'"
    # tell node 3 (2,102's LVB, kept by this NL lock) that node 1's value was read here
    mark_lvb kls 2 102 node2-read
    ;;
  3)
    gctl lock kls 2 100 SH
    log "LVB 2,100 on node3: '$(glvb kls 2,100)'"
    # write only once node 2 has read node 1's value (its mark in 2,102), not when node 2's
    # mount happens to be done (bounded)
    wait_lvb_mark kls 2 102 node2-read 90
    gctl lock kls 2 100 EX lvb=from-node3
    log "LVB 2,100 on node3 after EX: '$(glvb kls 2,100)'"
    ;;
esac
gstatus
log "KLS TRAFFIC DONE"

if [ "$N" = 2 ]; then
  # dirty the gfs2 journal without a sync, then wait to be killed
  for i in $(seq 1 20); do echo "node2 line $i" >>/mnt/gfs2/node2.txt; done
  mkdir -p /mnt/gfs2/dir2 && touch /mnt/gfs2/dir2/a /mnt/gfs2/dir2/b
  log "NODE2 READY TO DIE"
  sleep 600
  exit 0
fi

# 4. node 2 is killed: gfs1 (gfs2 node 1 + the module on node 3) and kls (modules on 1, 3)
end=$((SECONDS + 300))
while [ $SECONDS -lt $end ] && [ "$(members)" -ge 3 ]; do sleep 0.3; done
log "corosync members now $(members)"
if [ "$N" = 1 ]; then
  gfs1_done='gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done'
else
  gfs1_done='gdlm: gfs1: recover generation [0-9]+ done'
fi
wait_after_removal gfs1 2 "$gfs1_done" 150 && log "gfs1 recovered after node2"
wait_after_removal kls 2 'gdlm: kls: recover generation [0-9]+ done' 60 && log "kls recovered after node2"
gstatus
log "RECOVERY1 SEEN"
gctl lock kls 2 20$N EX lvb=after-node2-node$N && log "kls lock after recovery ok"
if [ "$N" = 1 ]; then
  if echo "node1 after recovery 1" >>/mnt/gfs2/node1.txt && sync; then log "gfs2 write after recovery 1 ok"; fi
  log "PHASE2 DONE"
else
  # the module never touches the shared disk: the block layer's write count for it
  log "SHARED DISK node3 writes=$(awk '{print $5}' "/sys/block/${dev#/dev/}/stat")"
  log "NODE3 READY TO DIE"
  sleep 600
  exit 0
fi

# 5. node 3 is killed: gfs2 on node 1 recovers the module's jid 2; kls on node 1 alone
end=$((SECONDS + 300))
while [ $SECONDS -lt $end ] && [ "$(members)" -ge 2 ]; do sleep 0.3; done
log "corosync members now $(members)"
wait_after_removal gfs1 3 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done' 150 && log "gfs1 recovered after node3"
wait_after_removal kls 3 'gdlm: kls: recover generation [0-9]+ done' 60 && log "kls recovered after node3"
gstatus
log "RECOVERY2 SEEN"
gctl lock kls 2 100 EX && log "kls lock after recovery 2 ok"
if echo "node1 after recovery 2" >>/mnt/gfs2/node1.txt && sync; then log "gfs2 write after recovery 2 ok"; fi
ls /mnt/gfs2 | tr '\n' ' ' | sed 's/^/GDLM gfs2 ls: /'; echo
gctl unmount kls && log "KMOD UNMOUNTED kls"
timeout 60 umount /mnt/gfs2 && log "gfs2 umounted"
rmmod gdlm && log "KMOD REMOVED"
