# cluster3-smoke: gdlm-linux-smoke on three nodes (cross-node NOQUEUE, BASTs, LVB hand-off).
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
log "scenario cluster3-smoke node $N"
timeout 200 "$SMOKE" node "$N"
log "smoke exit $?"
