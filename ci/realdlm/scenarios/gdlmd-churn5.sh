# gdlmd-churn5 (host side): five VMs; nodes 1-3 mounted throughout, nodes 4 and 5 each join
# and leave three times on their own clocks (clean, SIGKILL, clean), see
# guest/scenario-gdlmd-churn5.sh. The host kills nothing; it asserts from the stamped serial
# logs what must hold in every ordering of those joins, leaves and recoveries:
# - no wedge: every mount of nodes 4 and 5 finished, nodes 1-3 saw every leave and unmounted;
# - safety: per journal, no two holders at once (host clock): a journal is held from its
#   mounter's 'jid=J, already locked for use' to its clean release, or, for a SIGKILLed
#   gdlmd, until a survivor logged 'recover jid J result success'; every failure's journal
#   was recovered; the recovery command runs of a journal never overlapped;
# - no refused membership event, no gdlmd error, no kernel oops.
# DIR/churn-events.log has every node's gdlmd and marker lines; DIR/holders-jidJ.txt the
# holder intervals. Sourced by ci/realdlm/run; scenario_main DIR. Run by name (not in the
# default list): `ci/realdlm/run gdlmd-churn5`. SPDX-License-Identifier: GPL-2.0-only

_ch_nodes="1 2 3 4 5"

# _ch_holders DIR JID: "START END NODE HOW" per holding of journal JID, in start order
_ch_holders() {
  local n succ
  succ=$(for n in $_ch_nodes; do
    awk -v re="gdlmd: gdlmtest: recover jid $2 result success" '$0 ~ re {print $1}' "$1/node$n.stamped"
  done | sort -n | tr '\n' ' ')
  for n in $_ch_nodes; do
    awk -v n=$n -v j="$2" -v succ="$succ" '
      BEGIN { ns = split(succ, s, " ") }
      { t = $1 }
      index($0, "gdlmd: gdlmtest: jid=" j ", already locked for use") { st = t; next }
      st != "" && /gdlmd: gdlmtest: (unmounted|released)/ { print st, t, n, "released"; st = ""; next }
      st != "" && /MARK stop-[0-9a-z]+ signal KILL/ {
        e = "inf"
        for (i = 1; i <= ns; i++) if (s[i] + 0 > t + 0) { e = s[i]; break }
        print st, e, n, "killed"; st = ""; next
      }
      END { if (st != "") print st, "inf", n, "never-released" }' "$1/node$n.stamped"
  done | sort -n
}

# _ch_exclusive FILE: no holding starts before the previous one ended (0.5 s slack)
_ch_exclusive() {
  [ -s "$1" ] && awk 'NR > 1 && $1 + 0.5 < prev_end {bad = 1} {prev_end = ($2 == "inf") ? 1e18 : $2 + 0} END {exit bad}' "$1"
}

# _ch_runs DIR JID: every run of the recovery command for JID ("START END NODE"), start order
_ch_runs() {
  local n
  for n in $_ch_nodes; do
    awk -v n=$n -v j="$2" '
      { t = $1 }
      match($0, "GDLM-RECOVER (start|end|fail|orphaned) node=" n " jid=" j " gen=[0-9]+") {
        split(substr($0, RSTART, RLENGTH), w, /[ =]/)
        if (w[2] == "start") { if (s != "") print s, "inf", n; s = t }
        else if (s != "") { print s, t, n; s = "" }
        next
      }
      s != "" && index($0, "gdlmd: ") && index($0, ": jid=" j ": recovery command ") { print s, t, n; s = "" }
      END { if (s != "") print s, "inf", n }' "$1/node$n.stamped"
  done | sort -n
}

_ch_kernel_clean() {
  local f n
  for n in $_ch_nodes; do
    f=$1/node$n.dmesg
    grep -qE 'BUG:|Oops|Kernel panic' "$f" && return 1
    grep -E 'WARNING: ' "$f" | grep -vq 'at fs/dlm/requestqueue.c:47 dlm_add_requestqueue' && return 1
  done
  return 0
}

# the gdlmd/marker lines of node N's serial log (a kernel message in the middle of a line goes
# to a line of its own)
_ch_part() {
  tr -d '\r' <"$1/node$2.log" | sed -E 's/(.)(\[ *[0-9]+\.[0-9]{6}\] )/\1\n\2/g' |
    grep -aE 'gdlmd: gdlmtest: |^GDLM-RECOVER |^GDLM\[[0-9.]+\] MARK ' || true
}

# the jid node N held in round TAG (its 'mounted jid J' between MARK start-TAG and stop-TAG)
_ch_jid() {
  _ch_part "$1" "$2" | awk -v tag="$3" '$0 ~ "MARK start-" tag " " {s=1} s && /mounted jid/ {for (i=1;i<=NF;i++) if ($i=="jid") {print $(i+1); exit}}'
}

scenario_main() {
  local d=$1 t n r j
  export RDLM_APPEND="gdlm.token=$RDLM_TOKEN"
  rdlm_net_up 5 || { check "gdlmd-churn5: network namespace" false; return 1; }
  t=$(date +%s.%N)
  for n in $_ch_nodes; do rdlm_vm_start "$d" $n 5 gdlmd-churn5; done
  unset RDLM_APPEND
  rdlm_wait_log "$d/node1.log" 'GDLM\[[0-9.]+\] READY' 400 1 && say "cluster ready (node1) after $(elapsed "$t") s"
  for n in 4 5; do
    for r in 1 2 3; do
      rdlm_wait_log "$d/node$n.log" "MARK (mounted|exit)-${n}r$r" 600 $n && say "node$n round $r: $(grep -aoE "MARK (mounted|exit)-${n}r$r.*" "$d/node$n.log" | head -1 | tr -d '\r')"
    done
  done
  rdlm_vm_wait 1 900
  for n in 2 3 4 5; do rdlm_vm_wait $n 120; done
  say "5 VMs wall time $(elapsed "$t") s"
  for n in $_ch_nodes; do rdlm_split "$d" $n; done
  for n in $_ch_nodes; do _ch_part "$d" $n | sed "s/^/node$n /"; done >"$d/churn-events.log"
  grep -E 'confchg|recover jid|mounted jid|MARK (stop|mounted)|GDLM-RECOVER (start|end)' "$d/churn-events.log" | sed 's/^/    /' >&2

  for n in $_ch_nodes; do
    check "gdlmd-churn5: node$n ready (corosync 5 members, dlm_controld)" grep -aqE 'GDLM\[[0-9.]+\] READY members=5' "$d/node$n.log"
  done
  check "gdlmd-churn5: node1 was the first mounter" grep -q 'node1 .*gdlmd: gdlmtest: first mounter control generation 0$' "$d/churn-events.log"
  for n in 1 2 3; do
    check "gdlmd-churn5: node$n mounted with jid $((n - 1))" bash -c "grep -q 'node$n .*gdlmd: gdlmtest: mounted jid $((n - 1)) ' '$d/churn-events.log'"
    check "gdlmd-churn5: node$n saw nodes 4 and 5 leave six times, then unmounted cleanly (exit 0)" \
      bash -c "grep -qE 'node$n .*MARK churn-seen-$n leaves ([6-9]|[1-9][0-9])' '$d/churn-events.log' && grep -q 'node$n .*MARK exit-${n}a signal TERM rc 0' '$d/churn-events.log'"
  done
  for n in 4 5; do
    for r in 1 2 3; do
      check "gdlmd-churn5: node$n round $r mounted (no wedge)" grep -q "node$n .*MARK mounted-${n}r$r\$" "$d/churn-events.log"
    done
    check "gdlmd-churn5: node$n's clean rounds exited 0 after unmounting" \
      bash -c "grep -q 'node$n .*MARK exit-${n}r1 signal TERM rc 0' '$d/churn-events.log' && grep -q 'node$n .*MARK exit-${n}r3 signal TERM rc 0' '$d/churn-events.log'"
    check "gdlmd-churn5: nodes 1-3 saw node$n leave cleanly and fail (procdown)" \
      bash -c "for m in 1 2 3; do grep -qE \"node\$m .*confchg .* left ([0-9]+:[0-9]+/[a-z]+,)*$n:[0-9]+/leave\" '$d/churn-events.log' && grep -qE \"node\$m .*confchg .* left ([0-9]+:[0-9]+/[a-z]+,)*$n:[0-9]+/procdown\" '$d/churn-events.log' || exit 1; done"
    j=$(_ch_jid "$d" $n "${n}r2")
    check "gdlmd-churn5: node$n's journal of round 2 (jid ${j:-?}, SIGKILLed) was recovered by a survivor after the kill (host clock)" \
      bash -c "[ -n '$j' ] && tk=\$(awk '/MARK stop-${n}r2 signal KILL/ {print \$1; exit}' '$d/node$n.stamped') && [ -n \"\$tk\" ] && cat $d/node1.stamped $d/node2.stamped $d/node3.stamped $d/node4.stamped $d/node5.stamped | awk -v tk=\"\$tk\" '\$1 + 0 > tk + 0 && /gdlmd: gdlmtest: recover jid $j result success/ {ok=1} END {exit !ok}'"
  done
  for j in 0 1 2 3 4; do
    _ch_holders "$d" $j >"$d/holders-jid$j.txt"
    sed "s/^/    jid $j holder /" "$d/holders-jid$j.txt" >&2
  done
  for j in 0 1 2 3 4; do
    if [ $j -le 2 ]; then
      check "gdlmd-churn5: journal $j had one holder at a time (host clock)" _ch_exclusive "$d/holders-jid$j.txt"
    elif [ -s "$d/holders-jid$j.txt" ]; then
      check "gdlmd-churn5: journal $j (the churning nodes') had one holder at a time, a killed holder's until its recovery (host clock)" _ch_exclusive "$d/holders-jid$j.txt"
    fi
    _ch_runs "$d" $j >"$d/runs-jid$j.txt"
    if [ -s "$d/runs-jid$j.txt" ]; then
      check "gdlmd-churn5: the recovery command runs for jid $j never overlapped (host clock)" \
        awk 'NR > 1 && $1 + 0.3 < prev_end {bad = 1} {prev_end = ($2 == "inf") ? 1e18 : $2 + 0} END {exit bad}' "$d/runs-jid$j.txt"
    fi
  done
  check "gdlmd-churn5: journals 3 and 4 had holders (the churning nodes mounted)" bash -c "[ -s '$d/holders-jid3.txt' ] && [ -s '$d/holders-jid4.txt' ]"
  check "gdlmd-churn5: no refused membership events, gdlmd errors or failed mounts" \
    bash -c "! grep -qE 'membership refused|gdlmd: gdlmtest: error|mount failed|engine refused' '$d/churn-events.log'"
  check "gdlmd-churn5: no kernel BUG/oops/panic, no WARNING but 6.1 dlm's requestqueue memcpy one" _ch_kernel_clean "$d"
}
