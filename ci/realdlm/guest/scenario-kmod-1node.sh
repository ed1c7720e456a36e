# kmod-1node: gdlm.ko (C glue + gdlm-core) on one node: load, first mount of a module-only
# lockspace, status, a glock-style lock with an LVB, the benchmark (the same
# lock EX + convert NL + unlock cycle decided by gdlm-core and by C alone), unmount, rmmod.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
. /opt/gdlm/guest/kmod.sh
log "scenario kmod-1node"
kmod_load || exit 1
gctl mount gdlm:kone recovery=success && log "KMOD MOUNTED"
gstatus
gctl lock kone 2 1a EX lvb=hello-lvb
gctl lock kone 2 1a UN
gctl lock kone 2 1a SH
log "LVB after EX->UN->SH: '$(glvb kone 2,1a)'"
gstatus
gctl unlock kone 2 1a
# 401 pairs of 100-cycle blocks: the paired statistic (median ratio and its interval)
gctl bench kone "${GDLM_BENCH_N:-100}" "${GDLM_BENCH_ROUNDS:-401}"
gctl unmount kone && log "KMOD UNMOUNTED"
# alone in a lockspace with recovery=gaveup (shared with GFS2) it would be the first mounter,
# which must replay every journal: refused, and the lockspace released again
if gctl mount gdlm:kref recovery=gaveup; then log "KMOD KREF MOUNTED"; else log "KMOD KREF REFUSED"; fi
rmmod gdlm && log "KMOD REMOVED"
