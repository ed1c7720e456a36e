#!/bin/bash
# The recovery command gdlmd runs in gdlmd-cluster3 (sh -c CMD gdlmd-recover JID): prints a
# marker line at start and end; for a failed member's journal it also reads the control_lock
# LVB with `gdlm inspect` (the jid bit must be set at this point) and takes a while, so that
# the re-mount and the second failure of the scenario overlap it: 8 s while the generation
# is at most 6 (the first two failures), 1 s later (the VM kill, whose death-to-done time
# is measured); node 1's run for jid 2 before node 2's failure waits for that failure. The first recovery of jid 1 fails, to exercise the retry of a failure. A
# command whose gdlmd died is killed by gdlmd's reaper (or stops: GDLM-RECOVER orphaned).
# Phase 7 sets GDLMD_TEST_FAIL_JID (that first-mount replay fails after 4 s, exit 4) or
# GDLMD_TEST_SLOW_JID/GDLMD_TEST_SLOW_SECS (that first-mount replay takes that long).
# SPDX-License-Identifier: GPL-2.0-only
up() { cut -d' ' -f1 /proc/uptime; }
echo "GDLM-RECOVER start node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION reason=$GDLM_REASON arg=$1 up=$(up)"
# the first recovery of jid 1 fails (exit 3): gdlmd reports it, and retries it 1 s later
if [ "$GDLM_REASON" = failed ] && [ "$GDLM_JID" = 1 ] && [ ! -e /tmp/gdlmd-recover-failed-once ]; then
  touch /tmp/gdlmd-recover-failed-once
  echo "GDLM-RECOVER fail node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION reason=$GDLM_REASON up=$(up)"
  exit 3
fi
# phase 7 (GDLMD_TEST_* from the scenario): a first-mount replay that fails, or one that is slow
if [ "$GDLM_REASON" = first-mount ] && [ "$GDLM_JID" = "${GDLMD_TEST_FAIL_JID:-x}" ]; then
  sleep 4
  echo "GDLM-RECOVER fail node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION reason=$GDLM_REASON up=$(up)"
  exit 4
fi
if [ "$GDLM_REASON" = first-mount ] && [ "$GDLM_JID" = "${GDLMD_TEST_SLOW_JID:-x}" ]; then
  sleep "${GDLMD_TEST_SLOW_SECS:-10}"
fi
if [ "$GDLM_REASON" = failed ]; then
  j=$(timeout 30 /opt/gdlm/bin/gdlm inspect "$GDLM_LOCKSPACE" --json 2>&1 | tail -1)
  echo "GDLM-INSPECT-DURING node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION $j"
  # When gdlmd dies its journal lock is gone and a survivor may run this journal's recovery,
  # so a command that outlived its daemon would replay alongside it. gdlmd's reaper kills
  # this command's whole process group then (and logs "jid=J: recovery command killed: gdlmd
  # (pid P) died", the run's end for _gc_runs); this check stays as a second guard: stop
  # when the process above the shell (the reaper) is gone.
  # (builtins only in the loop: a fork costs tens of ms under TCG)
  d=$PPID c= st=
  read -r c 2>/dev/null <"/proc/$d/comm"
  [ "$c" = sh ] && read -r _ _ _ d _ <"/proc/$d/stat"
  alive() { st=; read -r _ _ st _ 2>/dev/null <"/proc/$d/stat" && [ "$st" != Z ]; }
  if [ "$GDLM_GENERATION" -le 6 ]; then secs=8; else secs=1; fi
  end=$(( ${EPOCHREALTIME/./} / 1000 + secs * 1000 ))
  while [ $(( ${EPOCHREALTIME/./} / 1000 )) -lt $end ]; do
    alive || { echo "GDLM-RECOVER orphaned node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION reason=$GDLM_REASON daemon=$d up=$(up)"; exit 4; }
    sleep 0.2
  done
  # gdlmd-cluster3's second failure (node 2's gdlmd SIGKILL, once node 3 rejoined) must come
  # during the first failure's recovery: node 1's run for jid 2 from before it (generation
  # 4, or 5 after node 3's rejoin) ends only once node 2 has left gdlmd's CPG group, however
  # long node 3's rejoin took (bounded: 90 s).
  if [ "$GDLM_JID" = 2 ] && [ "$GDLM_NODEID" = 1 ] && [ "$GDLM_GENERATION" -le 5 ]; then
    end=$((SECONDS + 90))
    while [ $SECONDS -lt $end ]; do
      alive || { echo "GDLM-RECOVER orphaned node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION reason=$GDLM_REASON daemon=$d up=$(up)"; exit 4; }
      corosync-cpgtool -e 2>/dev/null | awk -v g="gdlmd:$GDLM_LOCKSPACE" '/^[^ \t]/ {in_g = ($1 == g)} /^[ \t]/ && in_g && $2 == 2 {n2 = 1} END {exit n2}' && break
      sleep 0.5
    done
    echo "GDLM-RECOVER gate node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION node2-in-group=$([ $SECONDS -lt $end ] && echo no || echo yes) up=$(up)"
  fi
fi
echo "GDLM-RECOVER end node=$GDLM_NODEID jid=$GDLM_JID gen=$GDLM_GENERATION reason=$GDLM_REASON up=$(up)"
