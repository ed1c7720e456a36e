# withdraw-72: a withdraw on Linux 7.2, by real gfs2 and by gdlm.ko, three sid nodes.
#   gfs1 (table gdlm:gfs1 on the shared disk): gfs2 on nodes 1, 2, 3 in node order (jids 0,
#     1, 2). Node 3 dirties its journal and withdraws through gfs2's sysfs file (`withdraw`:
#     gfs2_withdraw, then gfs2_withdraw_func's lm_unmount(sdp, false): gdlm_unmount releases
#     the lockspace with DLM_RELEASE_RECOVER), so nodes 1 and 2 recover jid 2 as after a
#     failure, without a kill.
#   kwd (module-only, recovery=success): gdlm.ko (profile linux-7.2) on nodes 1, 2, 3 in node
#     order; once gfs1 is recovered, node 3's module gets Event::Withdraw (`withdraw kwd` on
#     its control file) and releases as the engine says; the modules on 1 and 2 recover jid 2.
# The survivors write, unmount and remove the module; node 3 unmounts its withdrawn gfs2.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
. /opt/gdlm/guest/kmod.sh
log "scenario withdraw-72 node $N"
dev=$(disk_by_serial gdlm-shared) || { log "no shared disk"; exit 1; }
kmod_load || exit 1
mkdir -p /mnt/gfs2

# 1. gfs1 and kwd in node order
wait_members gfs1 $((N - 1)) 150 || log "gfs1 has only $(ls_members gfs1) members"
[ "$N" -gt 1 ] && sleep 2
timeout 120 mount -t gfs2 "$dev" /mnt/gfs2 && log "MOUNTED gfs2"
echo "hello from node$N" >/mnt/gfs2/node$N.txt && sync
wait_members gfs1 3 150 || log "gfs1 has only $(ls_members gfs1) members"
wait_members kwd $((N - 1)) 150 || log "kwd has only $(ls_members kwd) members"
[ "$N" -gt 1 ] && sleep 2
gctl mount gdlm:kwd recovery=success profile=7.2 && log "KMOD MOUNTED kwd"
wait_members kwd 3 150 || log "kwd has only $(ls_members kwd) members"
# every node's join finished (the last join's generation done here) before anyone withdraws
wait_dmesg 'gdlm: kwd: recover generation [0-9]+ done' 60
sleep 3
log "ALL MOUNTED"

if [ "$N" = 3 ]; then
  # 2. dirty the journal without a sync, then withdraw gfs2 (gfs2's sysfs `withdraw`)
  for i in $(seq 1 20); do echo "node3 line $i" >>/mnt/gfs2/node3.txt; done
  mkdir -p /mnt/gfs2/dir3 && touch /mnt/gfs2/dir3/a /mnt/gfs2/dir3/b
  w=$(ls -d /sys/fs/gfs2/gdlm:gfs1/withdraw 2>/dev/null)
  if [ -n "$w" ] && echo 1 >"$w"; then log "GFS2 WITHDRAW REQUESTED"; else log "GFS2 WITHDRAW not possible (no $w)"; fi
  # gfs2_withdraw_func: the offline uevent's helper times out, then lm_unmount(sdp, false)
  wait_dmesg 'gfs2: fsid=gdlm:gfs1\.[0-9]+: file system withdrawn' 120 && log "GFS2 WITHDRAWN"
  # 3. once the survivors' gfs2 is done with jid 2 (the host says so by their lines; here:
  # bounded), withdraw the module's kwd
  sleep 20
  gctl withdraw kwd && log "KMOD WITHDRAWN kwd"
  gstatus
  timeout 60 umount /mnt/gfs2 && log "withdrawn gfs2 umounted"
  rmmod gdlm && log "KMOD REMOVED"
  exit 0
fi

# survivors: gfs2 recovers jid 2 after the withdraw, then the modules after the module's
wait_after_removal gfs1 3 'gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done' 180 && log "gfs1 recovered after node3's withdraw"
if echo "node$N after the withdraw" >>/mnt/gfs2/node$N.txt && sync; then log "gfs2 write after the withdraw ok"; fi
wait_after_removal kwd 3 'gdlm: kwd: recover generation [0-9]+ done' 180 && log "kwd recovered after node3's withdraw"
gstatus
gctl lock kwd 2 30$N EX lvb=after-withdraw-node$N && log "kwd lock after the withdraw ok"
# leave in node order: node 2 first (a clean leave each)
if [ "$N" = 1 ]; then wait_members kwd 1 120 || true; fi
gctl unmount kwd && log "KMOD UNMOUNTED kwd"
if [ "$N" = 1 ]; then wait_members gfs1 1 120 || true; fi
timeout 60 umount /mnt/gfs2 && log "gfs2 umounted"
rmmod gdlm && log "KMOD REMOVED"
