# gdlmd-churn5: a 4th and 5th member joining and leaving repeatedly (five VMs, --journals 5):
#   nodes 1-3 start gdlmd in turn (node N once the group has N-1 members, + 2 s) and stay
#   mounted; once the group has three members, nodes 4 and 5 each run three rounds, on
#   their own clocks (so their joins, leaves and failures interleave differently every run):
#   mount, hold it 2-3 s, stop (rounds 1 and 3: SIGTERM, a clean leave; round 2: SIGKILL, a
#   failure whose journal the others recover). Nodes 1-3 unmount once they saw both leave
#   three times. Every node waits for the group to be empty before powering off (quorum).
# The host asserts what holds in every ordering (scenarios/gdlmd-churn5.sh).
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
log "scenario gdlmd-churn5 node $N"
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
wait_empty() { # TIMEOUT
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ] && [ "$(group_members)" -gt 0 ]; do sleep 0.5; done
  log "group gdlmd:$LS has $(group_members) members (wanted 0)"
}
wait_file() { # FILE REGEX TIMEOUT
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  log "TIMEOUT waiting for /$2/ in $1"
  return 1
}
start_gdlmd() { # TAG
  "$GDLMD" "$LS" --recover-cmd "$RCMD \"\$1\"" --journals 5 --log-file "/tmp/gdlmd-$1.log" &
  GPID=$!
  log "MARK start-$1 pid $GPID"
}
stop_gdlmd() { # TAG SIGNAL
  log "MARK stop-$1 signal $2"
  kill -"$2" "$GPID" 2>/dev/null
  local i rc
  for i in $(seq 1 600); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.1; done
  wait "$GPID"
  rc=$?
  log "MARK exit-$1 signal $2 rc $rc"
}
# how many times nodes 4 and 5 left the group, from a gdlmd log's confchg lines
leaves() {
  grep -oE 'cpg confchg members [^ ]+ left [^ ]+' "$1" 2>/dev/null | sed 's/.* left //' |
    tr ',' '\n' | grep -cE '^[45]:'
}

case $N in
  1 | 2 | 3)
    wait_members $((N - 1)) 240
    sleep 2
    start_gdlmd "${N}a"
    wait_file "/tmp/gdlmd-${N}a.log" 'mounted jid' 240 && log "MARK mounted-${N}a"
    end=$((SECONDS + 1500))
    while [ $SECONDS -lt $end ] && [ "$(leaves "/tmp/gdlmd-${N}a.log")" -lt 6 ]; do sleep 1; done
    log "MARK churn-seen-$N leaves $(leaves "/tmp/gdlmd-${N}a.log")"
    sleep 3
    stop_gdlmd "${N}a" TERM
    ;;
  4 | 5)
    wait_members 3 300
    # nodes 1-3 mounted (their join has been recovered) before the churn starts
    sleep $((N == 4 ? 8 : 10))
    for r in 1 2 3; do
      start_gdlmd "${N}r$r"
      wait_file "/tmp/gdlmd-${N}r$r.log" 'mounted jid' 300 && log "MARK mounted-${N}r$r"
      sleep $((N - 2))
      if [ $r = 2 ]; then stop_gdlmd "${N}r$r" KILL; else stop_gdlmd "${N}r$r" TERM; fi
      sleep $((N - 3))
    done
    ;;
esac
wait_empty 400
for f in /tmp/gdlmd-*.log; do [ -f "$f" ] && log "log file $f: $(wc -l <"$f") lines"; done
