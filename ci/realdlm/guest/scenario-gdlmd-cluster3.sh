# gdlmd-cluster3: gdlmd (gfs2's lock_dlm mount and recovery protocol over a libdlm lockspace,
# membership from corosync CPG) on three nodes, in one boot:
#   1. node N starts gdlmd once the group has N-1 members: node 1 first mounter, jids 0 1 2
#   2. node 3's gdlmd is killed (SIGKILL: CPG procdown = failure); a survivor recovers jid 2
#   3. node 3 starts gdlmd again 2 s later, re-mounting during that recovery
#   4. node 2's gdlmd is killed once node 3 rejoined, during the recovery: jid 1 to recover
#   5. node 2 re-mounts, then unmounts cleanly (SIGTERM: no recovery), then re-mounts
#   6. the host kills node 3's VM (its gdlmd holds jid 2); nodes 1 and 2 recover it, then
#      unmount cleanly.
#   7. nodes 1 and 2 alone, nobody mounted: (7a/7b) node 1, first mounter, fails its replay
#      of jid 1 while node 2 waits to mount; node 2 then mounts first and must replay jid 1
#      itself; it gets SIGTERM during its slow replay of jid 2 (grace 3 s). (7c/7d) node 2
#      gets SIGTERM while control_mount waits for node 1's first mount.
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
wait_empty() { # TIMEOUT: until the group has no member
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ] && [ "$(group_members)" -gt 0 ]; do sleep 0.2; done
  log "group gdlmd:$LS has $(group_members) members (wanted 0)"
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
start_gdlmd() { # TAG [GDLMD OPTIONS]
  # gdlmd runs `sh -c CMD gdlmd-recover JID`: "$1" in CMD is the jid
  local tag=$1
  shift
  "$GDLMD" "$LS" --recover-cmd "$RCMD \"\$1\"" --journals 3 --log-file "/tmp/gdlmd-$tag.log" "$@" &
  GPID=$!
  log "MARK start-$tag pid $GPID"
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
# phase 7: nodes 1 and 2 (node 3's VM is gone); every step bounded
case $N in
  1)
    wait_empty 60
    sleep 3
    log "MARK phase7"
    GDLMD_TEST_FAIL_JID=1 start_gdlmd 7a
    end=$((SECONDS + 60))
    while [ $SECONDS -lt $end ] && kill -0 "$GPID" 2>/dev/null; do sleep 0.2; done
    stop_gdlmd 7a TERM # already exited: records its status
    wait_empty 60
    sleep 3
    GDLMD_TEST_SLOW_JID=2 GDLMD_TEST_SLOW_SECS=10 start_gdlmd 7c
    wait_file /tmp/gdlmd-7c.log 'mounted jid' 60 && log "MARK mounted-7c"
    sleep 2
    end=$((SECONDS + 60))
    while [ $SECONDS -lt $end ] && [ "$(group_members)" -gt 1 ]; do sleep 0.2; done
    stop_gdlmd 7c TERM
    ;;
  2)
    wait_empty 60
    log "MARK phase7"
    wait_members 1 60 # node 1's 7a
    sleep 1
    GDLMD_TEST_SLOW_JID=2 GDLMD_TEST_SLOW_SECS=30 start_gdlmd 7b --replay-grace 3
    wait_file /tmp/gdlmd-7b.log 'jid=2: Looking at journal' 60 && log "MARK replaying-7b"
    stop_gdlmd 7b TERM
    wait_empty 60
    wait_members 1 60 # node 1's 7c
    sleep 2
    start_gdlmd 7d
    wait_file /tmp/gdlmd-7d.log 'control_mount (wait|control_lock busy)' 30 && log "MARK waiting-7d"
    stop_gdlmd 7d TERM
    # stay up (quorum: node 3 is gone) until node 1's 7c has unmounted
    wait_empty 120
    ;;
esac
for f in /tmp/gdlmd-*.log; do [ -f "$f" ] && log "log file $f: $(wc -l <"$f") lines"; done
