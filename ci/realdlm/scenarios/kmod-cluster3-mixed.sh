# kmod-cluster3-mixed (host side): kmod-cluster3 with mixed kernels in the GFS2 lockspace
# gfs1: gfs2 on node 1 (first mounter) on Linux 7.2, gfs2 on node 2 on 6.1, and gdlm.ko
# (built against the 7.2 headers, linux-7.2 profile) on the 7.2 node 3: 7.2's gfs2 replays
# the 6.1 node's journal while the module runs its control step, then recovers the module's
# journal. The same guest script and checks (named kmod-cluster3-mixed). Sourced by
# ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
. "$RDLM_HERE/scenarios/kmod-cluster3.sh"
eval "_kc3m_main() $(declare -f scenario_main | tail -n +2)"
scenario_main() {
  RDLM_NODE_IMG=([1]=sid [2]=bookworm [3]=sid)
  RDLM_CHECK_RENAME="kmod-cluster3:=kmod-cluster3-mixed:" _kc3m_main "$1"
  RDLM_NODE_IMG=()
  check "kmod-cluster3-mixed: node3 loaded the module built for 7.2 on 7.2, node2 the 6.1 one" \
    bash -c "grep -qE 'KMOD LOADED /opt/gdlm/bin/kmod/7\.2\.[^/]*/gdlm\.ko \(7\.2\.' '$1/node3.log' && grep -qE 'KMOD LOADED /opt/gdlm/bin/gdlm\.ko \(6\.1\.' '$1/node2.log'"
}
