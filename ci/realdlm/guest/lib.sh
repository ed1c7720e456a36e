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
