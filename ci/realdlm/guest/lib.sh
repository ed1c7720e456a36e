# Sourced by the guest scenarios. SPDX-License-Identifier: GPL-2.0-only
N=${GDLM_NODE:-1}
log() { echo "GDLM[$(cut -d' ' -f1 /proc/uptime)] $*"; }
SMOKE=/opt/gdlm/bin/gdlm-linux-smoke
members() { corosync-quorumtool -l 2>/dev/null | grep -c ' node[0-9]'; }
# the disk whose virtio serial is $1
disk_by_serial() {
  local b
  for b in /sys/block/vd*; do
    [ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${b##*/}"; return 0; }
  done
  return 1
}
# DLM grant latency as gfs2 sees it: the tracepoint gfs2/gfs2_glock_lock_time fires on every
# DLM reply to a glock request (gdlm_ast → gfs2_update_reply_times, lock_dlm.c) with tdiff =
# ns from the dlm_lock/dlm_unlock call to the reply. trace_start turns it on (tracefs mounted
# if needed); trace_rsb prints which node masters each gfs1 resource (dlm debugfs rsb lines:
# the first number after the address is res_nodeid, 0 = this node); trace_dump prints the
# event's format and buffer. Every step is bounded and none fails the scenario: a kernel
# without the tracepoint prints "GDLM-TRACE not available" (gdlm-sim latency says so).
TRACE=/sys/kernel/tracing
TRACE_EV=$TRACE/events/gfs2/gfs2_glock_lock_time
trace_start() {
  mountpoint -q $TRACE || timeout 5 mount -t tracefs nodev $TRACE 2>/dev/null
  if [ -w "$TRACE_EV/enable" ]; then
    timeout 5 sh -c "echo 2048 >$TRACE/buffer_size_kb; echo 1 >$TRACE_EV/enable" 2>/dev/null
    log "TRACE gfs2_glock_lock_time enable=$(cat "$TRACE_EV/enable" 2>/dev/null)"
  else
    log "TRACE gfs2_glock_lock_time not available"
  fi
  return 0
}
trace_rsb() {
  local f
  for f in /sys/kernel/debug/dlm/gfs1_all /sys/kernel/debug/dlm/gfs1_toss; do
    [ -r "$f" ] && timeout 10 grep -a '^rsb ' "$f" 2>/dev/null | sed "s|^|GDLM-RSB ${f##*/} |"
  done
  return 0
}
trace_dump() {
  if [ ! -r "$TRACE_EV/format" ] || [ "$(cat "$TRACE_EV/enable" 2>/dev/null)" != 1 ]; then
    echo "GDLM-TRACE not available"
    return 0
  fi
  timeout 5 sh -c "echo 0 >$TRACE_EV/enable" 2>/dev/null
  sed 's/^/GDLM-TRACEFMT /' "$TRACE_EV/format"
  timeout 30 grep -av '^#' $TRACE/trace | sed 's/^/GDLM-TRACE /'
  echo "GDLM-TRACE end"
  return 0
}
