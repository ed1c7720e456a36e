# smoke-1node: gdlm-linux against the real kernel DLM on one node.
# SPDX-License-Identifier: GPL-2.0-only
. /opt/gdlm/guest/lib.sh
log "scenario smoke-1node"
timeout 120 "$SMOKE" single 200
log "smoke exit $?"
dlm_tool ls 2>&1 | sed 's/^/GDLM dlm_tool ls: /'
