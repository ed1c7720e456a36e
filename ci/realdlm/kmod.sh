# ci/realdlm/kmod.sh: build gdlm.ko (shim-kernel/module: C glue + the Rust object) for the
# guest kernel, inside the cached rootfs (it has linux-headers, gcc, make), and put it in the
# payload's bin/. Sourced by lib.sh's rdlm_payload; rdlm_kmod_build PAYLOAD_DIR.
# SPDX-License-Identifier: GPL-2.0-only
rdlm_kmod_build() {
  local p=$1 r=$RDLM_CACHE/rootfs kver d t
  kver=$(cat "$RDLM_CACHE/kver" 2>/dev/null)
  [ -n "$kver" ] && [ -d "$r/usr/src/linux-headers-$kver" ] ||
    { say "kmod: no linux-headers-$kver in the rootfs"; return 1; }
  t=$(date +%s.%N)
  GDLM_KOBJ_OUT="$RDLM_RESULTS/gdlm_kernel.o" bash "$RDLM_REPO/ci/check-kernel-object" >"$RDLM_RESULTS/kmod-build.log" 2>&1 ||
    { say "kmod: ci/check-kernel-object failed"; tail -5 "$RDLM_RESULTS/kmod-build.log" >&2; return 1; }
  d=/tmp/gdlm-kmod-$$
  rm -rf "${r:?}$d"
  mkdir -p "$r$d/include"
  cp "$RDLM_REPO/shim-kernel/module/Kbuild" "$RDLM_REPO"/shim-kernel/module/*.[ch] "$r$d/"
  cp "$RDLM_REPO/shim-kernel/include/gdlm_kernel.h" "$r$d/include/"
  cp "$RDLM_RESULTS/gdlm_kernel.o" "$r$d/gdlm_kernel.o_shipped"
  # 6.1's modpost wants a .cmd file for every object, the shipped one too
  echo "savedcmd_gdlm_kernel.o := cp gdlm_kernel.o_shipped gdlm_kernel.o" >"$r$d/.gdlm_kernel.o.cmd"
  if ! timeout 300 chroot "$r" make -C "/usr/src/linux-headers-$kver" M="$d" modules >>"$RDLM_RESULTS/kmod-build.log" 2>&1; then
    say "kmod: make modules failed (see kmod-build.log)"
    grep -E 'error|Error' "$RDLM_RESULTS/kmod-build.log" | head -20 >&2
    rm -rf "${r:?}$d"
    return 1
  fi
  cp "$r$d/gdlm.ko" "$p/bin/gdlm.ko" || return 1
  grep -E 'warning' "$RDLM_RESULTS/kmod-build.log" | head -5 >&2
  rm -rf "${r:?}$d"
  say "kmod: gdlm.ko built for $kver in $(elapsed "$t") s ($(stat -c %s "$p/bin/gdlm.ko") bytes)"
}
