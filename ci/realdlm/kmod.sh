# ci/realdlm/kmod.sh: build gdlm.ko (shim-kernel/module: C glue + the Rust object) for each
# guest kernel the run boots, and put it in the payload's bin/: bin/gdlm.ko for bookworm's 6.1
# (built inside the cached rootfs: it has linux-headers, gcc, make) and, when the run needs
# the sid image, bin/kmod/<kver>/gdlm.ko for 7.2 (built in a copy of the sid rootfs with
# linux-headers and gcc added: the sid guest image itself stays without a compiler). The
# guest's kmod_load takes bin/kmod/$(uname -r)/gdlm.ko when there is one. Sourced by
# lib.sh's rdlm_payload; rdlm_kmod_build PAYLOAD_DIR.
# SPDX-License-Identifier: GPL-2.0-only

# packages added to the sid rootfs copy that builds gdlm.ko for 7.2 (the headers of the
# image's own kernel are added by version)
RDLM_SID_KBUILD_PKGS="gcc make libc6-dev"

# rdlm_kbuild_root IMG: prints a root directory that holds IMG's kernel headers and a
# compiler. bookworm: the guest rootfs. sid: $RDLM_CACHE/sid-kbuild/rootfs, a copy of the sid
# rootfs plus linux-headers-<kver> and RDLM_SID_KBUILD_PKGS, rebuilt when the sid image's
# stamp, its kernel or the package list change (about 3 min; then cached).
rdlm_kbuild_root() {
  local img=${1:-bookworm} idir k kver stamp t rc=0
  idir=$(rdlm_img_dir "$img")
  if [ "$img" != sid ]; then echo "$idir/rootfs"; return 0; fi
  k=$RDLM_CACHE/sid-kbuild
  kver=$(cat "$idir/kver" 2>/dev/null)
  [ -n "$kver" ] && [ -f "$idir/rootfs.stamp" ] || { say "kmod: no sid image to copy"; return 1; }
  stamp="$(cat "$idir/rootfs.stamp") $kver $RDLM_SID_KBUILD_PKGS"
  if [ "$(cat "$k/stamp" 2>/dev/null)" = "$stamp" ] && [ -d "$k/rootfs/usr/src/linux-headers-$kver" ]; then
    echo "$k/rootfs"
    return 0
  fi
  t=$(date +%s.%N)
  for m in dev/pts dev sys proc; do umount -l "$k/rootfs/$m" 2>/dev/null || true; done
  rm -rf "${k:?}/rootfs" "$k/stamp"
  mkdir -p "$k"
  cp -a "$idir/rootfs" "$k/rootfs" || return 1
  mount -t proc proc "$k/rootfs/proc" && mount --bind /dev "$k/rootfs/dev" || rc=1
  if [ $rc = 0 ]; then
    {
      timeout 300 chroot "$k/rootfs" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        # shellcheck disable=SC2086
        timeout 900 chroot "$k/rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
          --no-install-recommends "linux-headers-$kver" $RDLM_SID_KBUILD_PKGS &&
        chroot "$k/rootfs" apt-get clean
    } >"$RDLM_RESULTS/kbuild-apt-sid.log" 2>&1 || rc=1
  fi
  umount -l "$k/rootfs/dev" 2>/dev/null || true
  umount -l "$k/rootfs/proc" 2>/dev/null || true
  [ $rc = 0 ] || { say "kmod: sid kbuild root: apt-get failed (see kbuild-apt-sid.log)"; tail -5 "$RDLM_RESULTS/kbuild-apt-sid.log" >&2; return 1; }
  echo "$stamp" >"$k/stamp"
  printf '%-28s %7s s\n' "  sid: kbuild root" "$(elapsed "$t")" >>"$RDLM_RESULTS/timings.txt"
  echo "$k/rootfs"
}

# _rdlm_kmod_make ROOT KVER OUT: build the module in ROOT against linux-headers-KVER into OUT
_rdlm_kmod_make() {
  local r=$1 kver=$2 out=$3 d=/tmp/gdlm-kmod-$$ log=$RDLM_RESULTS/kmod-build-$2.log
  [ -d "$r/usr/src/linux-headers-$kver" ] || { say "kmod: no linux-headers-$kver in $r"; return 1; }
  rm -rf "${r:?}$d"
  mkdir -p "$r$d/include"
  cp "$RDLM_REPO/shim-kernel/module/Kbuild" "$RDLM_REPO"/shim-kernel/module/*.[ch] "$r$d/"
  cp "$RDLM_REPO/shim-kernel/include/gdlm_kernel.h" "$r$d/include/"
  # The prebuilt object under its final name (7.2's kbuild has no rule for *_shipped:
  # FINDINGS-7.2 trap 6; an object without a rule is used as it is) and as _shipped (6.1's
  # rule copies it over itself), with the .cmd file 6.1's modpost wants for every object.
  cp "$RDLM_RESULTS/gdlm_kernel.o" "$r$d/gdlm_kernel.o"
  cp "$RDLM_RESULTS/gdlm_kernel.o" "$r$d/gdlm_kernel.o_shipped"
  echo "savedcmd_gdlm_kernel.o := cp gdlm_kernel.o_shipped gdlm_kernel.o" >"$r$d/.gdlm_kernel.o.cmd"
  # 7.2's objtool reads /proc (read_stack_limit: "fopen failed" without it)
  local pm=0 rc=0
  if ! mountpoint -q "$r/proc"; then mount -t proc proc "$r/proc" && pm=1; fi
  timeout 300 chroot "$r" make -C "/usr/src/linux-headers-$kver" M="$d" modules >"$log" 2>&1 || rc=1
  [ $pm = 1 ] && umount -l "$r/proc"
  if [ $rc != 0 ]; then
    say "kmod: make modules for $kver failed (see $(basename "$log"))"
    grep -E 'error|Error' "$log" | head -20 >&2
    rm -rf "${r:?}$d"
    return 1
  fi
  # objtool's verdict on the whole module (7.2 checks it: FINDINGS-7.2 trap 7)
  if grep -E 'objtool|warning' "$log" | head -5 >&2; then :; fi
  mkdir -p "$(dirname "$out")"
  cp "$r$d/gdlm.ko" "$out" || return 1
  rm -rf "${r:?}$d"
}

rdlm_kmod_build() {
  local p=$1 kver t r
  t=$(date +%s.%N)
  GDLM_KOBJ_OUT="$RDLM_RESULTS/gdlm_kernel.o" bash "$RDLM_REPO/ci/check-kernel-object" >"$RDLM_RESULTS/kmod-build.log" 2>&1 ||
    { say "kmod: ci/check-kernel-object failed"; tail -5 "$RDLM_RESULTS/kmod-build.log" >&2; return 1; }
  kver=$(cat "$RDLM_CACHE/kver" 2>/dev/null)
  [ -n "$kver" ] || { say "kmod: no bookworm kernel version"; return 1; }
  _rdlm_kmod_make "$RDLM_CACHE/rootfs" "$kver" "$p/bin/gdlm.ko" || return 1
  say "kmod: gdlm.ko built for $kver in $(elapsed "$t") s ($(stat -c %s "$p/bin/gdlm.ko") bytes)"
  # 7.2: only when this run boots the sid image (ci/realdlm/run's need_sid)
  if [ "${need_sid:-0}" = 1 ]; then
    t=$(date +%s.%N)
    kver=$(cat "$RDLM_CACHE/sid/kver" 2>/dev/null)
    r=$(rdlm_kbuild_root sid) || return 1
    _rdlm_kmod_make "$r" "$kver" "$p/bin/kmod/$kver/gdlm.ko" || return 1
    say "kmod: gdlm.ko built for $kver in $(elapsed "$t") s ($(stat -c %s "$p/bin/kmod/$kver/gdlm.ko") bytes)"
  fi
}

# rdlm_bench_checks SC FILE: the in-kernel benchmark's paired statistic (the 'bench paired:'
# line of gdlm.ko or gdlm_rfl.ko, in FILE) is printed, and whether the module is within 5% of
# the C-only cycle (the upper end of the 95% interval of the median per-pair ratio at most +5%)
# is reported in the results' bench.txt: a figure, not a check (performance is shown by
# benchmarks, never by a timed test that noise can fail). Called by kmod-1node and rfl-1node.
rdlm_bench_checks() {
  local sc=$1 f=$2 line hi within
  line=$(grep -E 'bench paired: module vs c-only over [0-9]+ pairs of [0-9]+-cycle blocks: median [-+][0-9.]+%, 95% interval \[[-+][0-9.]+%, [-+][0-9.]+%\]' "$f" | tail -1)
  hi=$(echo "$line" | sed -nE 's/.*95% interval \[[-+0-9.]+%, ([-+][0-9.]+)%\].*/\1/p')
  check "$sc: benchmark: paired statistic printed (median of the per-pair ratios, its 95% interval)" test -n "$line"
  # named as the scenario's checks are (kmod-1node-72 runs kmod-1node's)
  [ -n "${RDLM_CHECK_RENAME:-}" ] && sc=${sc/#"${RDLM_CHECK_RENAME%%:=*}"/"${RDLM_CHECK_RENAME#*=}"} && sc=${sc%:}
  if awk -v h="${hi:-x}" 'BEGIN {exit !(h != "x" && h + 0 <= 5.0)}'; then within=yes; else within=no; fi
  say "$sc: benchmark: within 5% of the C-only cycle: $within (upper end of the 95% interval ${hi:-?}%)"
  echo "$sc: ${line#*bench paired: }" >>"$RDLM_RESULTS/bench.txt"
}
