# rfl-1node: gdlm_rfl.ko (the Rust-for-Linux module, shim-kernel/rfl) on one Linux 7.2 node:
# load (the engine's self-test runs in init), a module-only lockspace mounted through the
# engine over the kernel DLM, status, unmount, rmmod. SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
. /opt/gdlm/guest/kmod.sh
log "scenario rfl-1node"
if insmod /opt/gdlm/bin/gdlm_rfl.ko; then log "RFL LOADED"; else log "RFL insmod FAILED"; exit 1; fi
grep -q '^gdlm_rfl ' /proc/modules && log "RFL IN PROC-MODULES"
gctl mount gdlm:rone recovery=success && log "RFL MOUNTED"
gstatus
# a glock-style lock through gdlm-core's Glock: EX writes the LVB on EX->UN, SH reads it back
gctl lock rone 2 1a EX lvb=hello-lvb
gctl lock rone 2 1a UN
gctl lock rone 2 1a SH
log "LVB after EX->UN->SH: '$(glvb rone 2,1a)'"
gstatus
gctl unlock rone 2 1a && log "RFL UNLOCKED 2,1a"
# the in-kernel benchmark (the C glue's, ported): 401 pairs of 100-cycle blocks, module vs the
# C-only path, the median ratio and its interval
gctl bench rone "${GDLM_BENCH_N:-100}" "${GDLM_BENCH_ROUNDS:-401}" && log "RFL BENCH DONE"
gctl unmount rone && log "RFL UNMOUNTED"
# alone with recovery=gaveup it would be the first mounter, which must replay every journal:
# refused, and the lockspace released again
if gctl mount gdlm:rref recovery=gaveup; then log "RFL RREF MOUNTED"; else log "RFL RREF REFUSED"; fi
gstatus
rmmod gdlm_rfl && log "RFL REMOVED"
log "RFL TAINT $(cat /proc/sys/kernel/tainted)"
