# cluster3-kill-72 (host side): cluster3-kill with three Linux 7.2 nodes (the sid image:
# Debian unstable, 7.2.13, corosync 3.1.10, dlm_controld 4.3): the same guest script, the same
# checks (named cluster3-kill-72), and the survivors' gfs2 recovery lines set against 6.1's:
# the same generation of the failure and the same line kinds (when cluster3-kill ran in this
# run too). Sourced by ci/realdlm/run; scenario_main DIR. SPDX-License-Identifier: GPL-2.0-only
# rdlm-images: sid
. "$RDLM_HERE/scenarios/cluster3-kill.sh"
eval "_c3k_main() $(declare -f scenario_main | tail -n +2)"
scenario_main() {
  local d=$1
  RDLM_IMG=sid RDLM_CHECK_RENAME="cluster3-kill:=cluster3-kill-72:" _c3k_main "$d"
  c3k_match_kernels "$d" cluster3-kill-72
}

# the kinds of lock_dlm/recovery lines in a survivors' log: node, fsid, hex offsets and
# timings dropped; generations and jids kept (a set: how many busy rounds, and which node
# replays, vary between runs)
c3k_forms() {
  sed -E 's/^node[0-9]+ //; s/^.*gfs2: fsid=gdlm:gfs1(\.[0-9]+)?: //; s/0x[0-9a-f]+/X/g; s/[0-9]+ms/Nms/g; s/[0-9]+ of [0-9]+ blocks/N of N blocks/; s/Found [0-9]+ revoke/Found N revoke/; s/(Updated master statfs).*/\1 .../' "$1" | sort -u
}

# the failure's generation: the survivors' first 'recover generation N done' after the removal
c3k_fail_gen() {
  awk '/dlm: gfs1: remove member 3/ {r=1} r && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done/ {print $(NF-1); exit}' "$1"
}

# c3k_failure_lines DIR: each survivor's gfs2 recovery lines from node 3's removal through its
# first 'recover generation N done' (the joins before may be finished as one generation or two,
# and the unmounts after may or may not show one: orderings lock_dlm allows), prefixed nodeN
c3k_failure_lines() {
  local n
  for n in 1 2; do
    # (the replayer's 'jid=2: Done' may come just after its 'done': kept, until the next
    # 'recover' line)
    awk -v n=$n '/dlm: gfs1: remove member 3/ {r=1}
      d && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover / {exit}
      d && !/gfs2: fsid=gdlm:gfs1\.[0-9]+: jid=2: Done/ {next}
      r && /gfs2: fsid=gdlm:gfs1\.[0-9]+: (recover (generation|jid)|jid=2: )/ {print "node" n " " $0}
      r && /gfs2: fsid=gdlm:gfs1\.[0-9]+: recover generation [0-9]+ done$/ {d=1}' "$1/node$n.dmesg"
  done
}

# c3k_match_kernels DIR NAME: this run's survivors' lines against cluster3-kill's (6.1) of the
# same ci/realdlm/run, if it ran
c3k_match_kernels() {
  local d=$1 name=$2 ref=$RDLM_RESULTS/cluster3-kill n
  c3k_failure_lines "$d" >"$d/gfs2-failure-lines.log"
  c3k_forms "$d/gfs2-failure-lines.log" >"$d/gfs2-recovery-forms.txt"
  for n in 1 2; do echo "node$n $(c3k_fail_gen "$d/node$n.dmesg")"; done >"$d/fail-gen.txt"
  if [ ! -s "$ref/node1.dmesg" ] || [ ! -s "$ref/node2.dmesg" ]; then
    say "$name: cluster3-kill (6.1) did not run in this run: no comparison across kernels"
    return 0
  fi
  c3k_failure_lines "$ref" >"$d/gfs2-failure-lines-6.1.log"
  c3k_forms "$d/gfs2-failure-lines-6.1.log" >"$d/gfs2-recovery-forms-6.1.txt"
  for n in 1 2; do echo "node$n $(c3k_fail_gen "$ref/node$n.dmesg")"; done >"$d/fail-gen-6.1.txt"
  diff "$d/gfs2-recovery-forms-6.1.txt" "$d/gfs2-recovery-forms.txt" >"$d/gfs2-recovery-forms.diff"
  sed 's/^/    /' "$d/gfs2-recovery-forms.diff" >&2
  check "$name: the survivors' failure generation is 6.1's ($(tr '\n' ' ' <"$d/fail-gen-6.1.txt")vs $(tr '\n' ' ' <"$d/fail-gen.txt"))" \
    bash -c "cmp -s '$d/fail-gen-6.1.txt' '$d/fail-gen.txt' && ! grep -q ' \$' '$d/fail-gen.txt'"
  check "$name: the survivors' gfs2 lines from the removal to 'done' (recover generation N jid J, results, jid=J: steps, done) are of the same kinds as 6.1's" \
    test ! -s "$d/gfs2-recovery-forms.diff"
}
