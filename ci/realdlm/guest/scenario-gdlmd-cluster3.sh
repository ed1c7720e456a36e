# gdlmd-cluster3: gdlmd (gfs2's lock_dlm mount and recovery protocol over a libdlm lockspace,
# membership from corosync CPG) on three nodes, in one boot:
#   1. node N starts gdlmd once the group has N-1 members: node 1 first mounter, jids 0 1 2
#   2. node 3's gdlmd is killed (SIGKILL: CPG procdown = failure); a survivor recovers jid 2
#   3. node 3 starts gdlmd again 2 s later, re-mounting during that recovery
#   4. node 2's gdlmd is killed once node 3 rejoined, during the recovery: jid 1 to recover
#   5. node 2 re-mounts, then unmounts cleanly (SIGTERM: no recovery), then re-mounts
#   6. the host kills node 3's VM (its gdlmd holds jid 2); nodes 1 and 2 recover it, then
#      unmount cleanly.
# Every step waits (bounded) for what it needs; the host asserts from the serial logs.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
log "scenario gdlmd-cluster3 node $N"
LS=gdlmtest
GDLMD=/opt/gdlm/bin/gdlmd
RCMD=/opt/gdlm/guest/gdlmd-recover.sh
GPID=
group_members() {
  corosync-cpgtool -e 2>/dev/null |
    awk -v g="gdlmd:$LS" '/^[^ \t]/ {in_g = ($1 == g)} /^[ \t]/ && in_g {n++} END {print n + 0}'
}
wait_members() { # N TIMEOUT
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ] && [ "$(group_members)" -lt "$1" ]; do sleep 0.2; done
  log "group gdlmd:$LS has $(group_members) members (wanted $1)"
}
wait_file() { # FILE REGEX TIMEOUT
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  log "TIMEOUT waiting for /$2/ in $1"
  return 1
}
# a 'recover generation N done' after the Kth 'recover_slot jid 2' line of FILE
done_after_slot2() { # FILE K TIMEOUT
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    awk -v k="$2" '/recover_slot jid 2 / {s++} s >= k && /recover generation [0-9]+ done/ {d=1} END {exit !d}' "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  log "TIMEOUT waiting for a done after recover_slot jid 2 #$2 in $1"
  return 1
}
start_gdlmd() { # TAG
  # gdlmd runs `sh -c CMD gdlmd-recover JID`: "$1" in CMD is the jid
  "$GDLMD" "$LS" --recover-cmd "$RCMD \"\$1\"" --journals 3 --log-file "/tmp/gdlmd-$1.log" &
  GPID=$!
  log "MARK start-$1 pid $GPID"
}
stop_gdlmd() { # TAG SIGNAL
  kill -"$2" "$GPID" 2>/dev/null
  local i rc
  for i in $(seq 1 300); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.1; done
  wait "$GPID"
  rc=$?
  log "MARK exit-$1 signal $2 rc $rc"
}

case $N in
  1)
    start_gdlmd 1a
    wait_file /tmp/gdlmd-1a.log 'mounted jid' 120 && log "MARK mounted-1a"
    # until node 3's VM kill (the second failure of jid 2) has been recovered
    done_after_slot2 /tmp/gdlmd-1a.log 2 900
    sleep 5
    stop_gdlmd 1a TERM
    ;;
  2)
    wait_members 1 120
    sleep 2
    start_gdlmd 2a
    wait_file /tmp/gdlmd-2a.log 'mounted jid' 120 && log "MARK mounted-2a"
    wait_file /tmp/gdlmd-2a.log 'recover_slot jid 2 ' 300
    wait_members 3 30 # node 3's new gdlmd joined
    sleep 1
    log "MARK kill2"
    kill -KILL "$GPID"
    sleep 1
    # re-mount once the LVB has no jid bits left (journals 2 and 1 recovered by node 1)
    end=$((SECONDS + 180))
    while [ $SECONDS -lt $end ]; do
      j=$(timeout 30 /opt/gdlm/bin/gdlm inspect "$LS" --json 2>/dev/null | tail -1)
      case $j in *'"jids":[]'*) break ;; esac
      sleep 1
    done
    log "GDLM-INSPECT-AFTER node=2 $j"
    sleep 3
    start_gdlmd 2b
    wait_file /tmp/gdlmd-2b.log 'mounted jid' 120 && log "MARK remounted-2b"
    sleep 4
    log "MARK unmount-2b"
    stop_gdlmd 2b TERM
    sleep 4
    start_gdlmd 2c
    wait_file /tmp/gdlmd-2c.log 'mounted jid' 120 && log "MARK remounted-2c"
    # the host now kills node 3's VM
    done_after_slot2 /tmp/gdlmd-2c.log 1 600
    sleep 2
    stop_gdlmd 2c TERM
    ;;
  3)
    wait_members 2 120
    sleep 2
    start_gdlmd 3a
    wait_file /tmp/gdlmd-3a.log 'mounted jid' 120 && log "MARK mounted-3a"
    sleep 10
    log "MARK kill1"
    kill -KILL "$GPID"
    sleep 2
    start_gdlmd 3b
    wait_file /tmp/gdlmd-3b.log 'mounted jid' 240 && log "MARK remounted-3b"
    log "NODE3 WAITING TO BE KILLED"
    sleep 900
    ;;
esac
for f in /tmp/gdlmd-*.log; do [ -f "$f" ] && log "log file $f: $(wc -l <"$f") lines"; done
