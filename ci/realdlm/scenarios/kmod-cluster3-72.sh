# kmod-cluster3-72 (host side): kmod-cluster3 on three Linux 7.2.13 nodes (the sid image):
# real 7.2 gfs2 on nodes 1 and 2, and gdlm.ko built against the 7.2 headers on node 3 with the
# linux-7.2 profile, in one GFS2 lockspace (gfs1): the module's mount (not first), its clean
# unmount and re-mount, its control steps after node 2's kill beside 7.2's lock_dlm (either
# ordering: it sees jid 1 and gives up, or 7.2's gfs2 already cleared the bit), and 7.2's gfs2
# recovering the module's journal after node 3's kill; plus the module-only lockspace kls. The
# same guest script and checks (named kmod-cluster3-72). Sourced by ci/realdlm/run.
# SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
. "$RDLM_HERE/scenarios/kmod-cluster3.sh"
eval "_kc3_main() $(declare -f scenario_main | tail -n +2)"
scenario_main() {
  local n
  RDLM_IMG=sid RDLM_CHECK_RENAME="kmod-cluster3:=kmod-cluster3-72:" _kc3_main "$1"
  for n in 1 2 3; do
    check "kmod-cluster3-72: node$n loaded the module built for 7.2 on 7.2" \
      grep -qE 'KMOD LOADED /opt/gdlm/bin/kmod/7\.2\.[^/]*/gdlm\.ko \(7\.2\.' "$1/node$n.log"
  done
}
