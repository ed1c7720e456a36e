# shim-kernel/rfl/toolchain.sh: the Rust-for-Linux build environment for Debian's 7.2 kernel,
# built once and cached (sourced by shim-kernel/rfl/build; see README.md there).
#
# 1. $RFL_CACHE/chroot: a copy of ci/realdlm's sid rootfs plus Debian's rustc/cargo/rust-src
#    (1.97.1, the exact build the kernel was compiled with: CONFIG_RUSTC_VERSION_TEXT),
#    bindgen, clang, gcc, make, linux-headers and linux-source for the image's kernel.
# 2. $RFL_CACHE/krust: the kernel's rust/ metadata (lib*.rmeta, proc-macro .so) and
#    scripts/target.json, rebuilt from linux-source with Debian's .config (`modules_prepare`,
#    about 3 min on 2 cores), then dropped into the stock headers directory in the chroot:
#    Debian's headers package ships neither (../../shared/realdlm/FINDINGS-RFL-7.2.md).
#
# SPDX-License-Identifier: GPL-2.0-only

RFL_PKGS="rustc cargo rust-src bindgen libclang-dev clang gcc make libc6-dev flex bison bc libelf-dev libssl-dev xz-utils patch binutils kmod"

rfl_say() { echo "rfl[$(date +%H:%M:%S)] $*" >&2; }
rfl_elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

_rfl_umount() {
  local m
  for m in dev/pts dev sys proc; do umount -l "$RFL_CHROOT/$m" 2>/dev/null || true; done
}
_rfl_mount() {
  mount -t proc proc "$RFL_CHROOT/proc" && mount -t sysfs sys "$RFL_CHROOT/sys" &&
    mount --bind /dev "$RFL_CHROOT/dev" && mount --bind /dev/pts "$RFL_CHROOT/dev/pts"
}

# rfl_chroot: step 1 (cached by a stamp over the package list and the sid image's stamp)
rfl_chroot() {
  local key t rc=0 sidkey
  sidkey=$(cat "$RFL_SID/rootfs.stamp" 2>/dev/null) ||
    { rfl_say "no sid image in $RFL_SID (run ci/realdlm/run --prepare or a sid scenario first)"; return 1; }
  key=$(echo "$sidkey $RFL_PKGS $RFL_KVER" | sha256sum | cut -c1-16)
  if [ "$(cat "$RFL_CACHE/chroot.stamp" 2>/dev/null)" = "$key" ] && [ -x "$RFL_CHROOT/usr/bin/rustc" ]; then
    rfl_say "toolchain chroot cached ($RFL_CHROOT, key $key)"
    return 0
  fi
  rm -f "$RFL_CACHE/chroot.stamp"
  _rfl_umount
  rm -rf "$RFL_CHROOT"
  mkdir -p "$RFL_CACHE"
  t=$(date +%s.%N)
  cp -a "$RFL_SID/rootfs" "$RFL_CHROOT" || return 1
  cp /etc/resolv.conf "$RFL_CHROOT/etc/resolv.conf" 2>/dev/null || true
  _rfl_mount || { _rfl_umount; return 1; }
  {
    timeout 300 chroot "$RFL_CHROOT" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      # shellcheck disable=SC2086
      timeout 1200 chroot "$RFL_CHROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends $RFL_PKGS "linux-headers-$RFL_KVER" "linux-source-$(echo "$RFL_KVER" | cut -d. -f1,2)" &&
      chroot "$RFL_CHROOT" apt-get clean
  } >"$RFL_LOG/rfl-apt.log" 2>&1 || rc=1
  _rfl_umount
  [ $rc = 0 ] || { rfl_say "chroot apt-get failed (see $RFL_LOG/rfl-apt.log)"; tail -5 "$RFL_LOG/rfl-apt.log" >&2; return 1; }
  rfl_say "toolchain chroot: $(chroot "$RFL_CHROOT" rustc --version) in $(rfl_elapsed "$t") s"
  echo "$key" >"$RFL_CACHE/chroot.stamp"
}

# rfl_krust: step 2 (cached by a stamp over the kernel release and rustc's version)
rfl_krust() {
  local key t rc=0 hdr=/usr/src/linux-headers-$RFL_KVER src cc
  key=$({ echo "$RFL_KVER"; chroot "$RFL_CHROOT" rustc --version --verbose; } | sha256sum | cut -c1-16)
  if [ "$(cat "$RFL_CACHE/krust.stamp" 2>/dev/null)" = "$key" ] && [ -f "$RFL_CACHE/krust/target.json" ]; then
    rfl_say "kernel rust/ metadata cached ($RFL_CACHE/krust, key $key)"
  else
    rm -f "$RFL_CACHE/krust.stamp"
    t=$(date +%s.%N)
    # the kernel's compiler: CONFIG_CC_VERSION_TEXT names gcc-NN
    cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-\([0-9]*\) .*/x86_64-linux-gnu-gcc-\1/p' "$RFL_CHROOT$hdr/.config")
    [ -n "$cc" ] && [ -x "$RFL_CHROOT/usr/bin/$cc" ] || { rfl_say "krust: kernel compiler '$cc' not in the chroot"; return 1; }
    src=$(ls "$RFL_CHROOT"/usr/src/linux-source-*.tar.xz | head -1)
    rm -rf "$RFL_CHROOT/build/linux"
    mkdir -p "$RFL_CHROOT/build/linux"
    {
      # Documentation/ is not needed but its Kconfig is (FINDINGS-RFL-7.2)
      tar -C "$RFL_CHROOT/build/linux" --strip-components=1 --exclude='*/Documentation/*' -xf "$src" &&
        tar -C "$RFL_CHROOT/build/linux" --strip-components=1 -xf "$src" --wildcards '*/Documentation/Kconfig' &&
        cp "$RFL_CHROOT$hdr/.config" "$RFL_CHROOT/build/linux/.config" &&
        timeout 120 chroot "$RFL_CHROOT" make -C /build/linux CC="$cc" olddefconfig &&
        timeout 120 chroot "$RFL_CHROOT" make -C /build/linux CC="$cc" rustavailable &&
        timeout 900 chroot "$RFL_CHROOT" make -C /build/linux -j"$(nproc)" KERNELRELEASE="$RFL_KVER" CC="$cc" modules_prepare
    } >"$RFL_LOG/rfl-krust.log" 2>&1 || rc=1
    if [ $rc = 0 ]; then
      rm -rf "$RFL_CACHE/krust"
      mkdir -p "$RFL_CACHE/krust"
      cp "$RFL_CHROOT"/build/linux/rust/*.rmeta "$RFL_CHROOT"/build/linux/rust/*.so "$RFL_CACHE/krust/" &&
        cp "$RFL_CHROOT/build/linux/scripts/target.json" "$RFL_CACHE/krust/" || rc=1
    fi
    rm -rf "$RFL_CHROOT/build/linux"
    [ $rc = 0 ] || { rfl_say "krust: rust/ rebuild failed (see $RFL_LOG/rfl-krust.log)"; tail -8 "$RFL_LOG/rfl-krust.log" >&2; return 1; }
    echo "$key" >"$RFL_CACHE/krust.stamp"
    rfl_say "kernel rust/ metadata rebuilt in $(rfl_elapsed "$t") s ($(du -sm "$RFL_CACHE/krust" | cut -f1) MB)"
  fi
  # the drop-in: the stock headers plus rust/ and scripts/target.json (FINDINGS-RFL-7.2 "extra")
  mkdir -p "$RFL_CHROOT$hdr/rust"
  cp "$RFL_CACHE"/krust/*.rmeta "$RFL_CACHE"/krust/*.so "$RFL_CHROOT$hdr/rust/" &&
    cp "$RFL_CACHE/krust/target.json" "$RFL_CHROOT$hdr/scripts/target.json"
}
