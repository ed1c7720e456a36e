# kmod-1node-72 (host side): kmod-1node on a Linux 7.2.13 node (the sid image): gdlm.ko built
# against linux-headers-7.2.13 (ci/realdlm/kmod.sh: bin/kmod/<kver>/gdlm.ko), the same guest
# script and checks (named kmod-1node-72). Sourced by ci/realdlm/run; scenario_main DIR.
# SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
. "$RDLM_HERE/scenarios/kmod-1node.sh"
eval "_k1n_main() $(declare -f scenario_main | tail -n +2)"
scenario_main() {
  RDLM_IMG=sid RDLM_CHECK_RENAME="kmod-1node:=kmod-1node-72:" _k1n_main "$1"
  check "kmod-1node-72: the module built for 7.2 was loaded on 7.2" \
    grep -qE 'KMOD LOADED /opt/gdlm/bin/kmod/7\.2\.[^/]*/gdlm\.ko \(7\.2\.' "$1/node1.harness"
}
