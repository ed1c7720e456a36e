# gdlmd-cluster3-mixed (host side): gdlmd-cluster3 with node 2 on Linux 7.2 (sid image) and
# nodes 1, 3 on 6.1: gdlmd built on the bookworm host runs on sid's glibc and shares its
# lockspace (user space, over libdlm) with 6.1 nodes; node 2 is the one whose gdlmd is
# SIGKILLed during the recovery, re-mounts, unmounts cleanly and survives the VM kill. The same
# guest script and checks (named gdlmd-cluster3-mixed).
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
. "$RDLM_HERE/scenarios/gdlmd-cluster3.sh"
eval "_gc_main() $(declare -f scenario_main | tail -n +2)"
scenario_main() {
  local d=$1
  RDLM_NODE_IMG=([1]=bookworm [2]=sid [3]=bookworm)
  RDLM_CHECK_RENAME="gdlmd-cluster3:=gdlmd-cluster3-mixed:" _gc_main "$d"
  RDLM_NODE_IMG=()
}
