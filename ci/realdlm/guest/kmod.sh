# Helpers for the kmod-* guest scenarios (sourced after guest/lib.sh): the gdlm.ko module's
# debugfs control file and status. SPDX-License-Identifier: GPL-2.0-only
GCTL=/sys/kernel/debug/gdlm/ctl
GSTATUS=/sys/kernel/debug/gdlm/status
# gctl COMMAND...: one command, bounded; logs it and its exit status
gctl() {
  local rc
  timeout "${GCTL_TIMEOUT:-150}" sh -c "echo '$*' >$GCTL"
  rc=$?
  log "gctl '$*' rc=$rc"
  return $rc
}
gstatus() { sed "s/^/GDLM-STATUS /" "$GSTATUS"; }
# the module built for this kernel (7.2: bin/kmod/<kver>/gdlm.ko; 6.1: bin/gdlm.ko)
kmod_load() {
  local ko=/opt/gdlm/bin/kmod/$(uname -r)/gdlm.ko
  [ -f "$ko" ] || ko=/opt/gdlm/bin/gdlm.ko
  if insmod "$ko"; then log "KMOD LOADED $ko ($(uname -r))"; else log "KMOD insmod FAILED $ko"; return 1; fi
}
# the lvb text of lock TYPE,NUMBER (hex) of FSNAME in the status file
glvb() { sed -n "s/^  lock $1 $2 state [A-Z]* lkid [0-9a-f]* lvb '\(.*\)'$/\1/p" "$GSTATUS"; }
# CPG members of a dlm lockspace (dlm_controld's group dlm:ls:NAME)
ls_members() {
  corosync-cpgtool -e 2>/dev/null | awk -v g="^dlm:ls:$1" '/^[^ \t]/ {m = ($0 ~ g)} /^[ \t]/ && m {n++} END {print n + 0}'
}
# wait_members NAME N SECONDS
wait_members() {
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ] && [ "$(ls_members "$1")" -lt "$2" ]; do sleep 0.3; done
  [ "$(ls_members "$1")" -ge "$2" ]
}

# after_removal LS NODEID RE: dmesg has a line matching RE after "dlm: LS: remove member NODEID"
after_removal() { dmesg | awk -v a="dlm: $1: remove member $2\$" -v b="$3" '$0 ~ a {r=1} r && $0 ~ b {d=1} END {exit !d}'; }
# wait_after_removal LS NODEID RE SECS: after_removal, tried for up to SECS seconds
wait_after_removal() {
  local end=$((SECONDS + $4))
  while [ $SECONDS -lt $end ]; do after_removal "$1" "$2" "$3" && return 0; sleep 0.5; done
  return 1
}
# wait_dmesg RE SECS: a dmesg line matches RE within SECS seconds
wait_dmesg() {
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do dmesg | grep -qE "$1" && return 0; sleep 0.5; done
  return 1
}
# mark_lvb LS TYPE NUM TEXT: write TEXT into test lock TYPE,NUM's LVB (EX), then keep it with
# NL ("UN" is lock_dlm's NL: make_mode(LM_ST_UNLOCKED)), so the DLM keeps the LVB for readers
mark_lvb() { gctl lock "$1" "$2" "$3" EX lvb="$4" && gctl lock "$1" "$2" "$3" UN; }
# wait_lvb_mark LS TYPE NUM TEXT SECS: read TYPE,NUM's LVB (SH, then back to NL) every second
# until it is TEXT (bounded); logs what it read last. Orders a step after another node's
# mark_lvb, not after a guess at how long that node takes.
wait_lvb_mark() {
  local end=$((SECONDS + $5)) m=
  while [ $SECONDS -lt $end ]; do
    gctl lock "$1" "$2" "$3" SH
    m=$(glvb "$1" "$2,$3")
    gctl lock "$1" "$2" "$3" UN
    [ "$m" = "$4" ] && break
    sleep 1
  done
  log "mark $2,$3 on node$N: '$m'"
  [ "$m" = "$4" ]
}
