# rfl-withdraw-72: a withdraw of gdlm_rfl.ko (the Rust-for-Linux module) on three Linux 7.2
# nodes in one module-only lockspace rwd (recovery=success, profile linux-7.2), mounted in
# node order (jids 0, 1, 2). Node 3 gets Event::Withdraw (`withdraw rwd` on its control file:
# gfs2_withdraw_func's lm_unmount(sdp, false)) and releases as the engine says (7.2:
# DLM_RELEASE_RECOVER); nodes 1 and 2 see node 3 leave and recover jid 2 if the DLM reports the
# leave as a failure. The survivors lock, unmount and remove the module. The C glue's twin is
# the kwd half of withdraw-72. SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
. /opt/gdlm/guest/kmod.sh
log "scenario rfl-withdraw-72 node $N"
if insmod /opt/gdlm/bin/gdlm_rfl.ko; then log "RFL LOADED ($(uname -r))"; else log "RFL insmod FAILED"; exit 1; fi
wait_members rwd $((N - 1)) 150 || log "rwd has only $(ls_members rwd) members"
[ "$N" -gt 1 ] && sleep 2
gctl mount gdlm:rwd recovery=success journals=3 profile=7.2 && log "RFL MOUNTED rwd"
wait_members rwd 3 150 || log "rwd has only $(ls_members rwd) members"
# every node's join finished (the last join's generation done here) before the withdraw
wait_dmesg 'gdlm: rwd: recover generation [0-9]+ done' 60
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ] && ! grep -q 'blocked 0 ' "$GSTATUS"; do sleep 0.5; done
sleep 3
gstatus
log "ALL MOUNTED"
if [ "$N" = 3 ]; then
  gctl withdraw rwd && log "RFL WITHDRAWN rwd"
  gstatus
  rmmod gdlm_rfl && log "RFL REMOVED"
  exit 0
fi
# survivors: recovery of jid 2 (a failure) or nothing to recover (a clean leave)
wait_after_removal rwd 3 'gdlm: rwd: recover generation [0-9]+ done' 180 && log "rwd recovered after node3's withdraw"
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ] && ! grep -qE 'blocked 0 .* jids - ' "$GSTATUS"; do sleep 0.5; done
gstatus
gctl lock rwd 2 30$N EX lvb=after-withdraw-node$N && log "rwd lock after the withdraw ok"
# stay while the other survivor may still retry a busy jid 2 (HZ + the 300 ms replay hold):
# a setup bound, as in rfl-cluster3
sleep 10
# leave in node order: node 2 first
if [ "$N" = 1 ]; then wait_members rwd 1 120 || true; fi
gctl unmount rwd && log "RFL UNMOUNTED rwd"
rmmod gdlm_rfl && log "RFL REMOVED"
