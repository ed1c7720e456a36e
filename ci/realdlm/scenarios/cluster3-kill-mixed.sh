# cluster3-kill-mixed (host side): cluster3-kill with mixed kernels in one gfs2 lockspace:
# node 1 (first mounter) and node 3 (killed) on Linux 7.2 (sid image), node 2 on 6.1
# (bookworm), so a 6.1 and a 7.2 survivor race to replay a 7.2 node's journal; gdlm-linux's
# hold and inspect run on the 7.2 node 1 (host-built binaries on sid's glibc). The same guest
# script and checks (named cluster3-kill-mixed), the survivors' lines set against 6.1's.
# Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
. "$RDLM_HERE/scenarios/cluster3-kill-72.sh"
scenario_main() {
  local d=$1
  RDLM_NODE_IMG=([1]=sid [2]=bookworm [3]=sid)
  RDLM_CHECK_RENAME="cluster3-kill:=cluster3-kill-mixed:" _c3k_main "$d"
  RDLM_NODE_IMG=()
  c3k_match_kernels "$d" cluster3-kill-mixed
}
