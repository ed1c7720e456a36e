# cluster3-smoke-72 (host side): cluster3-smoke with three Linux 7.2 nodes (the sid image):
# gdlm-linux over 7.2's user-space DLM interface, including node 2's 200 refused NOQUEUE
# requests (7.2.13 panicked on those made as new requests). The same guest script and
# checks (named cluster3-smoke-72).
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
. "$RDLM_HERE/scenarios/cluster3-smoke.sh"
eval "_c3s_main() $(declare -f scenario_main | tail -n +2)"
scenario_main() {
  RDLM_IMG=sid RDLM_CHECK_RENAME="cluster3-smoke:=cluster3-smoke-72:" _c3s_main "$1"
}
