# ci/realdlm/lib.sh: helpers for ci/realdlm/run (sourced, not run).
#
# Host side of the real-DLM harness: host tools, the cached Debian bookworm rootfs and boot
# image, the payload disk, an isolated network namespace, qemu VMs, bounded waits, and the
# pass/fail bookkeeping. Every wait here has a deadline; every VM and the namespace are
# stopped by `rdlm_cleanup`, which `run` installs as its EXIT/INT/TERM trap.
#
# SPDX-License-Identifier: GPL-2.0-only

RDLM_CACHE=${GDLM_REALDLM_CACHE:-/var/cache/gdlm-realdlm}
RDLM_ACCEL=${GDLM_REALDLM_ACCEL:-tcg}
RDLM_VM_MEM=${GDLM_REALDLM_VM_MEM:-1024}
# corosync's token (ms) in the 3-node scenarios. knet declares a link down after about one
# token without pongs; at 2000 ms a survivor descheduled under load (TCG, 2 busy cores) lost the
# other survivor right after a VM kill, both fell below quorum and dlm_controld waited for it
# ("wait quorum", the lockspace stopped for good): 4 times in about 30 kills.
RDLM_TOKEN=${GDLM_REALDLM_TOKEN:-4000}
RDLM_NETNS=gdlm-rdlm-$$
RDLM_SUITE=bookworm
# Guest packages and initrd modules. Changing them (or guest/init0) rebuilds the cached
# rootfs and image.
RDLM_INITRD_MODULES="virtio_pci virtio_blk ext4 crc32c_generic"
RDLM_GUEST_PKGS="linux-image-amd64 initramfs-tools kmod udev corosync dlm-controld libdlm3 gfs2-utils iproute2 procps psmisc util-linux e2fsprogs linux-headers-amd64 gcc make libc6-dev"
# The second image: Debian unstable (sid), kernel 7.2 (../shared/realdlm/FINDINGS-7.2.md),
# cached in $RDLM_CACHE/sid. No headers/compiler: nothing is built in it. zstd for a smaller
# initrd (minbase has no zstd, so initramfs-tools would fall back to gzip); no crc32c_generic
# module in 7.2.
RDLM_SID_INITRD_MODULES="virtio_pci virtio_blk ext4"
RDLM_SID_GUEST_PKGS="linux-image-amd64 initramfs-tools zstd kmod udev corosync dlm-controld libdlm3 gfs2-utils iproute2 procps psmisc util-linux e2fsprogs"

declare -A RDLM_VMPID=() RDLM_STAMPPID=()
# per-node image (bookworm or sid) for rdlm_vm_start; default $RDLM_IMG, else bookworm
declare -A RDLM_NODE_IMG=()
RDLM_PASS=0
RDLM_FAIL=0
RDLM_T0=$(date +%s.%N)

ts() { date +%H:%M:%S; }
say() { echo "realdlm[$(ts)] $*" | tee -a "$RDLM_RESULTS/host.log" >&2; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# phase NAME CMD...: run CMD, record its wall time in timings.txt
phase() {
  local name=$1 t rc
  shift
  t=$(date +%s.%N)
  say "phase $name: start"
  "$@"
  rc=$?
  printf '%-28s %7s s  (rc %s)\n' "$name" "$(elapsed "$t")" "$rc" >>"$RDLM_RESULTS/timings.txt"
  say "phase $name: $(elapsed "$t") s (rc $rc)"
  return $rc
}

# check DESCRIPTION CMD...: one assertion
check() {
  local what=$1
  shift
  # a scenario run again under another name (e.g. on the 7.2 image) renames its checks
  [ -n "${RDLM_CHECK_RENAME:-}" ] && what=${what/#"${RDLM_CHECK_RENAME%%=*}"/"${RDLM_CHECK_RENAME#*=}"}
  if "$@" >/dev/null 2>&1; then
    RDLM_PASS=$((RDLM_PASS + 1))
    echo "ok   - $what" | tee -a "$RDLM_RESULTS/checks.txt"
  else
    RDLM_FAIL=$((RDLM_FAIL + 1))
    echo "FAIL - $what" | tee -a "$RDLM_RESULTS/checks.txt"
  fi
}

# ---------------------------------------------------------------- host tools
rdlm_qemu_env() {
  QEMU_L=()
  if [ -x "$RDLM_CACHE/qemu-root/usr/bin/qemu-system-x86_64" ]; then
    QEMU=$RDLM_CACHE/qemu-root/usr/bin/qemu-system-x86_64
    export QEMU_MODULE_DIR=$RDLM_CACHE/qemu-root/usr/lib/x86_64-linux-gnu/qemu
    QEMU_L=(-L "$RDLM_CACHE/qemu-root/usr/share/qemu" -L /usr/share/qemu -L /usr/share/seabios -L /usr/lib/ipxe/qemu)
  else
    QEMU=$(command -v qemu-system-x86_64 || true)
  fi
}

# Installs what the host needs without removing or downgrading anything: every apt install is
# simulated first (`apt-get install -s`); qemu-system-x86 falls back to `dpkg -x` into the
# cache when apt would remove a package (e.g. a backported qemu-utils that Breaks it).
rdlm_host_tools() {
  export DEBIAN_FRONTEND=noninteractive
  local want=() p
  command -v debootstrap >/dev/null || want+=(debootstrap)
  command -v mkfs.ext4 >/dev/null || want+=(e2fsprogs)
  command -v pkg-config >/dev/null || want+=(pkg-config)
  command -v ip >/dev/null || want+=(iproute2)
  command -v cc >/dev/null || want+=(gcc)
  [ -f /usr/include/libdlm.h ] || want+=(libdlm-dev)
  # rust-corosync (gdlmd's CPG membership) links cpg, cfg, cmap, quorum, votequorum
  for p in libcpg-dev libcfg-dev libcmap-dev libquorum-dev libvotequorum-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || want+=("$p")
  done
  # runtime of the unpacked qemu (harmless when qemu comes from apt)
  for p in seabios ipxe-qemu qemu-system-data libaio1 libcapstone4 libfdt1 libfuse3-3 libglib2.0-0 \
    libgnutls30 libibverbs1 libjpeg62-turbo libnuma1 libpixman-1-0 libpmem1 libpng16-16 \
    librdmacm1 libsasl2-2 libseccomp2 libslirp0 liburing2 libvdeplug2 libzstd1 libbpf1; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || want+=("$p")
  done
  rdlm_qemu_env
  local need_qemu=0
  [ -n "$QEMU" ] || need_qemu=1
  if [ ${#want[@]} -eq 0 ] && [ $need_qemu = 0 ]; then
    say "host tools present (qemu: $QEMU)"
    return 0
  fi
  say "apt-get update (once), then install: ${want[*]} $([ $need_qemu = 1 ] && echo qemu-system-x86)"
  timeout 300 apt-get update -q >"$RDLM_RESULTS/apt-update.log" 2>&1 || { say "apt-get update failed"; return 1; }
  if [ ${#want[@]} -gt 0 ]; then
    if timeout 120 apt-get install -s --no-install-recommends "${want[@]}" 2>&1 | grep -q '^Remv'; then
      say "refusing: apt would remove host packages to install ${want[*]}"
      return 1
    fi
    timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends "${want[@]}" >"$RDLM_RESULTS/apt-install.log" 2>&1 ||
      { say "apt-get install failed (see apt-install.log)"; return 1; }
  fi
  if [ $need_qemu = 1 ]; then
    if [ "${GDLM_REALDLM_QEMU_FROM_DEB:-0}" != 1 ] &&
      ! timeout 120 apt-get install -s --no-install-recommends qemu-system-x86 2>&1 | grep -q '^Remv'; then
      timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends qemu-system-x86 >>"$RDLM_RESULTS/apt-install.log" 2>&1 ||
        { say "apt-get install qemu-system-x86 failed"; return 1; }
    else
      say "apt would remove host packages for qemu-system-x86: unpacking it into $RDLM_CACHE/qemu-root"
      local d=$RDLM_CACHE/debs
      rm -rf "$d" "$RDLM_CACHE/qemu-root"
      mkdir -p "$d" "$RDLM_CACHE/qemu-root"
      (cd "$d" && timeout 300 apt-get download qemu-system-x86 qemu-system-common) >>"$RDLM_RESULTS/apt-install.log" 2>&1 ||
        { say "apt-get download qemu failed"; return 1; }
      for p in "$d"/*.deb; do dpkg -x "$p" "$RDLM_CACHE/qemu-root" || return 1; done
    fi
    rdlm_qemu_env
  fi
  [ -n "$QEMU" ] && "$QEMU" "${QEMU_L[@]}" --version | head -1 | sed 's/^/    /' >&2
  [ -n "$QEMU" ]
}

# ---------------------------------------------------------------- rootfs and base image
rdlm_host_mirror() {
  { grep -hs -B3 -A3 "Suites:.*\b$RDLM_SUITE\b" /etc/apt/sources.list.d/*.sources | sed -n 's/^URIs: *//p'
    grep -hs "^deb .* $RDLM_SUITE " /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
  } 2>/dev/null | head -1
}

# rdlm_img_dir IMG: the cache directory of an image (bookworm: $RDLM_CACHE itself, as before
# there was a second image; sid: $RDLM_CACHE/sid)
rdlm_img_dir() { if [ "${1:-bookworm}" = sid ]; then echo "$RDLM_CACHE/sid"; else echo "$RDLM_CACHE"; fi; }

# the initramfs hook of the sid image: udev 262's hwdb.bin (several MB) is not needed to boot
RDLM_SID_HOOK='#!/bin/sh
[ "$1" = prereqs ] && exit 0
rm -f "$DESTDIR/usr/lib/udev/hwdb.bin" "$DESTDIR/lib/udev/hwdb.bin" "$DESTDIR/etc/udev/hwdb.bin"'

rdlm_rootfs_key() {
  if [ "${1:-bookworm}" = sid ]; then
    { echo "sid $RDLM_SID_GUEST_PKGS $RDLM_SID_INITRD_MODULES"; echo "$RDLM_SID_HOOK"; cat "$RDLM_HERE/guest/init0"; } | sha256sum | cut -c1-16
  else
    { echo "$RDLM_SUITE $RDLM_GUEST_PKGS $RDLM_INITRD_MODULES"; cat "$RDLM_HERE/guest/init0"; } | sha256sum | cut -c1-16
  fi
}

_rdlm_chroot_umount() {
  local r m
  for r in "$RDLM_CACHE/rootfs" "$RDLM_CACHE/sid/rootfs"; do
    for m in dev/pts dev sys proc; do umount -l "$r/$m" 2>/dev/null || true; done
  done
}

# rdlm_rootfs [IMG]: builds DIR/{rootfs/,root.img,vmlinuz,initrd.img,kver} of image IMG
# (bookworm, the default, or sid; DIR from rdlm_img_dir) unless DIR/rootfs.stamp says they are
# current (GDLM_REALDLM_FRESH=1 forces a rebuild). Timings go to timings.txt as "  IMG: step".
rdlm_rootfs() {
  local img=${1:-bookworm} key dir r t suite pkgs mods
  dir=$(rdlm_img_dir "$img")
  r=$dir/rootfs
  key=$(rdlm_rootfs_key "$img")
  if [ "${GDLM_REALDLM_FRESH:-0}" != 1 ] && [ "$(cat "$dir/rootfs.stamp" 2>/dev/null)" = "$key" ] &&
    [ -f "$dir/root.img" ] && [ -f "$dir/vmlinuz" ] && [ -f "$dir/initrd.img" ]; then
    say "$img rootfs and image cached ($dir, key $key)"
    return 0
  fi
  if [ "$img" = sid ]; then
    suite=sid pkgs=$RDLM_SID_GUEST_PKGS mods=$RDLM_SID_INITRD_MODULES
  else
    suite=$RDLM_SUITE pkgs=$RDLM_GUEST_PKGS mods=$RDLM_INITRD_MODULES
  fi
  # the host's bookworm mirror serves sid too (its URI is the plain Debian archive)
  local mirror=${GDLM_REALDLM_MIRROR:-$(rdlm_host_mirror)}
  [ -n "$mirror" ] || { say "no $RDLM_SUITE mirror in the host's apt sources; set GDLM_REALDLM_MIRROR"; return 1; }
  rm -f "$dir/rootfs.stamp"
  _rdlm_chroot_umount
  rm -rf "$r"
  mkdir -p "$dir"
  t=$(date +%s.%N)
  # debootstrap does not check the Release file's Valid-Until; the sid signature verifies with
  # the host's (bookworm) archive keyring
  timeout 600 debootstrap --variant=minbase "$suite" "$r" "$mirror" >"$RDLM_RESULTS/debootstrap-$img.log" 2>&1 ||
    { say "debootstrap $suite failed (see debootstrap-$img.log)"; tail -5 "$RDLM_RESULTS/debootstrap-$img.log" >&2; return 1; }
  printf '%-28s %7s s\n' "  $img: debootstrap" "$(elapsed "$t")" >>"$RDLM_RESULTS/timings.txt"
  if [ "$img" = sid ]; then
    echo "deb $mirror sid main" >"$r/etc/apt/sources.list"
    # the mirror's unstable Release may carry a Valid-Until in the past (FINDINGS-7.2 trap 1)
    echo 'Acquire::Check-Valid-Until "false";' >"$r/etc/apt/apt.conf.d/99gdlm-no-valid-until"
    mkdir -p "$r/etc/initramfs-tools/hooks"
    printf '%s\n' "$RDLM_SID_HOOK" >"$r/etc/initramfs-tools/hooks/zz-gdlm-no-hwdb"
    chmod +x "$r/etc/initramfs-tools/hooks/zz-gdlm-no-hwdb"
  else
    local sec
    sec=$(grep -hs -B3 -A3 "Suites:.*\b$RDLM_SUITE-security\b" /etc/apt/sources.list.d/*.sources | sed -n 's/^URIs: *//p' | head -1)
    {
      echo "deb $mirror $RDLM_SUITE main"
      echo "deb $mirror $RDLM_SUITE-updates main"
      [ -n "$sec" ] && echo "deb $sec $RDLM_SUITE-security main"
    } >"$r/etc/apt/sources.list"
  fi
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod +x "$r/usr/sbin/policy-rc.d"
  mkdir -p "$r/etc/initramfs-tools/conf.d"
  # a small initrd (only what mounts the virtio ext4 root) boots much faster under TCG
  printf '%s\n' $mods >"$r/etc/initramfs-tools/modules"
  echo 'MODULES=list' >"$r/etc/initramfs-tools/conf.d/gdlm"
  [ "$img" = sid ] && echo 'COMPRESS=zstd' >>"$r/etc/initramfs-tools/conf.d/gdlm"
  t=$(date +%s.%N)
  mount -t proc proc "$r/proc" && mount -t sysfs sys "$r/sys" && mount --bind /dev "$r/dev" &&
    mount --bind /dev/pts "$r/dev/pts" || { _rdlm_chroot_umount; return 1; }
  local rc=0
  {
    timeout 300 chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      # shellcheck disable=SC2086
      timeout 900 chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs &&
      chroot "$r" apt-get clean
  } >"$RDLM_RESULTS/rootfs-apt-$img.log" 2>&1 || rc=1
  _rdlm_chroot_umount
  [ $rc = 0 ] || { say "chroot apt-get failed (see rootfs-apt-$img.log)"; tail -5 "$RDLM_RESULTS/rootfs-apt-$img.log" >&2; return 1; }
  printf '%-28s %7s s\n' "  $img: apt-get install" "$(elapsed "$t")" >>"$RDLM_RESULTS/timings.txt"
  install -m 0755 "$RDLM_HERE/guest/init0" "$r/sbin/gdlm-init0"
  mkdir -p "$r/opt/gdlm"
  echo gdlm >"$r/etc/hostname"
  local kver
  kver=$(ls "$r/lib/modules" | sort -V | tail -1)
  cp "$r/boot/vmlinuz-$kver" "$dir/vmlinuz"
  cp "$r/boot/initrd.img-$kver" "$dir/initrd.img"
  echo "$kver" >"$dir/kver"
  t=$(date +%s.%N)
  local size_mb=$(($(du -sm "$r" | cut -f1) + 400))
  rm -f "$dir/root.img"
  truncate -s "${size_mb}M" "$dir/root.img"
  mkfs.ext4 -q -F -L gdlm-root -d "$r" "$dir/root.img" || return 1
  printf '%-28s %7s s\n' "  $img: mkfs.ext4" "$(elapsed "$t")" >>"$RDLM_RESULTS/timings.txt"
  echo "$key" >"$dir/rootfs.stamp"
  say "$img rootfs built: kernel $kver, root.img ${size_mb} MiB, initrd $(($(stat -c %s "$dir/initrd.img") / 1048576)) MiB"
}

# ---------------------------------------------------------------- payload disk
# The project's test payload (guest scripts + host-built binaries) on a small read-only ext4
# disk the guests mount at /opt/gdlm (found by its virtio serial `gdlm-payload`).
rdlm_payload() {
  local p=$RDLM_RESULTS/payload
  rm -rf "$p"
  mkdir -p "$p/bin" "$p/guest"
  cp -r "$RDLM_HERE/guest/." "$p/guest/"
  chmod +x "$p/guest/"*
  local tdir=${CARGO_TARGET_DIR:-$RDLM_REPO/target}
  (cd "$RDLM_REPO" && timeout 900 cargo build -q --release -p gdlm-linux --bins) >"$RDLM_RESULTS/cargo-build.log" 2>&1 ||
    { say "cargo build -p gdlm-linux failed"; tail -20 "$RDLM_RESULTS/cargo-build.log" >&2; return 1; }
  cp "$tdir/release/gdlm-linux-smoke" "$tdir/release/gdlm" "$tdir/release/gdlmd" "$p/bin/" || return 1
  # the C baseline of the benchmark, built against the host's libdlm like gdlm-linux
  cc -O2 -Wall -o "$p/bin/dlmbench" "$RDLM_HERE/src/dlmbench.c" -ldlm >>"$RDLM_RESULTS/cargo-build.log" 2>&1 ||
    { say "cc dlmbench.c failed"; return 1; }
  # gdlm.ko (shim-kernel/module + the Rust object), built in the rootfs for the guest kernel
  . "$RDLM_HERE/kmod.sh" && rdlm_kmod_build "$p" || return 1
  # gdlm_rfl.ko (shim-kernel/rfl: Rust for Linux, 7.2) when a scenario says '# rdlm-rfl'
  if [ "${RDLM_NEED_RFL:-0}" = 1 ]; then
    local t=$(date +%s.%N)
    timeout 1800 "$RDLM_REPO/shim-kernel/rfl/build" "$RDLM_RESULTS/rfl" >"$RDLM_RESULTS/rfl-build.log" 2>&1 ||
      { say "rfl: shim-kernel/rfl/build failed"; tail -8 "$RDLM_RESULTS/rfl-build.log" >&2; return 1; }
    cp "$RDLM_RESULTS/rfl/gdlm_rfl.ko" "$p/bin/" || return 1
    say "rfl: gdlm_rfl.ko built for $(cat "$RDLM_CACHE/sid/kver") in $(elapsed "$t") s"
  fi
  git -C "$RDLM_REPO" rev-parse --short HEAD >"$p/REVISION" 2>/dev/null || true
  rm -f "$RDLM_RESULTS/payload.img"
  truncate -s 64M "$RDLM_RESULTS/payload.img"
  mkfs.ext4 -q -F -L gdlm-payload -d "$p" "$RDLM_RESULTS/payload.img"
}

# ---------------------------------------------------------------- network and VMs
# A private namespace holding one bridge and a tap per VM: no uplink, no route, no address on
# the host side. The guests talk to each other over 10.77.0.N/24 on that bridge only.
# rdlm_gfs2_disk DIR SCENARIO: DIR/shared.img, gfs2 (lock_dlm, table gdlm:gfs1 of cluster
# gdlm, 3 journals of 16 MiB) made with the rootfs's mkfs.gfs2; sets RDLM_SHARED to the qemu
# arguments that share it between the VMs. Returns 1 (with a failed check) if mkfs fails.
rdlm_gfs2_disk() {
  local d=$1 t img=shared-$$.img
  t=$(date +%s.%N)
  truncate -s 512M "$RDLM_CACHE/rootfs/$img"
  if ! timeout 120 chroot "$RDLM_CACHE/rootfs" mkfs.gfs2 -O -p lock_dlm -t gdlm:gfs1 -j 3 -J 16 "/$img" >"$d/mkfs.log" 2>&1; then
    rm -f "$RDLM_CACHE/rootfs/$img"
    check "$2: mkfs.gfs2" false
    return 1
  fi
  mv "$RDLM_CACHE/rootfs/$img" "$d/shared.img"
  say "mkfs.gfs2 $(elapsed "$t") s"
  RDLM_SHARED=(-drive "file=$d/shared.img,if=none,id=shared,format=raw,cache=none,file.locking=off"
    -device "virtio-blk-pci,drive=shared,serial=gdlm-shared,share-rw=on,addr=0x5")
}

rdlm_net_up() {
  local i
  ip netns add "$RDLM_NETNS" || return 1
  ip -n "$RDLM_NETNS" link add br0 type bridge &&
    ip -n "$RDLM_NETNS" link set br0 up || return 1
  for i in $(seq 1 "$1"); do
    ip -n "$RDLM_NETNS" tuntap add "tap$i" mode tap &&
      ip -n "$RDLM_NETNS" link set "tap$i" master br0 &&
      ip -n "$RDLM_NETNS" link set "tap$i" up || return 1
  done
}

rdlm_net_down() { ip netns del "$RDLM_NETNS" 2>/dev/null || true; }

# qemu inside the namespace (exec: the background job's PID is qemu's)
_rdlm_qemu() { exec ip netns exec "$RDLM_NETNS" "$QEMU" "$@"; }

# rdlm_vm_start DIR NODE NNODES SCENARIO [extra qemu args]: serial console -> DIR/nodeN.log
rdlm_vm_start() {
  local dir=$1 n=$2 nn=$3 sc=$4
  shift 4
  local img=${RDLM_NODE_IMG[$n]:-${RDLM_IMG:-bookworm}} idir
  idir=$(rdlm_img_dir "$img")
  local accel=(-accel tcg -cpu max)
  [ "$RDLM_ACCEL" = kvm ] && accel=(-accel kvm -cpu host)
  local args=("${QEMU_L[@]}" "${accel[@]}" -nodefaults -smp 1 -m "$RDLM_VM_MEM"
    -display none -monitor none -no-reboot -serial "file:$dir/node$n.log"
    -kernel "$idir/vmlinuz" -initrd "$idir/initrd.img"
    -append "console=ttyS0 root=/dev/vda rw init=/sbin/gdlm-init0 net.ifnames=0 panic=-1 loglevel=6 gdlm.node=$n gdlm.nnodes=$nn gdlm.scenario=$sc ${RDLM_APPEND:-}"
    -drive "file=$idir/root.img,if=none,id=root,format=raw,snapshot=on"
    -device "virtio-blk-pci,drive=root,addr=0x4"
    -drive "file=$RDLM_RESULTS/payload.img,if=none,id=payload,format=raw,readonly=on,file.locking=off"
    -device "virtio-blk-pci,drive=payload,serial=gdlm-payload,addr=0x6"
    -netdev "tap,id=n0,ifname=tap$n,script=no,downscript=no"
    -device "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:0$n,addr=0x3"
    "$@")
  # the log exists before tail starts: on a missing file GNU tail -F polls once a second
  : >"$dir/node$n.log"
  _rdlm_qemu "${args[@]}" >"$dir/qemu-node$n.stderr" 2>&1 &
  RDLM_VMPID[$n]=$!
  _rdlm_stamp "$dir/node$n.log" "${RDLM_VMPID[$n]}" >"$dir/node$n.stamped" 2>/dev/null &
  RDLM_STAMPPID[$n]=$!
  say "node$n: qemu pid ${RDLM_VMPID[$n]} ($img, kernel $(cat "$idir/kver" 2>/dev/null))"
}

# _rdlm_stamp LOG QEMUPID: every line of a serial log as "HOSTEPOCH LINE", stamped when the
# host read it (tail follows the file with inotify, or polls every 0.1 s; ends when qemu has
# exited). Kernel and
# user-space lines of different VMs can be ordered on this one clock (to the host's
# reading latency: tens of ms), which the guests' own uptimes cannot do.
_rdlm_stamp() {
  local l
  tail -s 0.1 -n +1 -F --pid="$2" "$1" 2>/dev/null | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "${l%$'\r'}"; done
}

# rdlm_stamp_wait: let every stamper finish reading its log (qemu has exited)
rdlm_stamp_wait() {
  local n i
  for n in "${!RDLM_STAMPPID[@]}"; do
    for i in $(seq 1 50); do kill -0 "${RDLM_STAMPPID[$n]}" 2>/dev/null || break; sleep 0.1; done
    kill "${RDLM_STAMPPID[$n]}" 2>/dev/null
    unset "RDLM_STAMPPID[$n]"
  done
}

# rdlm_t STAMPED REGEX [AFTER]: host time (epoch s) of the first line matching REGEX that was
# read after host time AFTER (default 0); the final GDLM-DMESG dump is not counted. Prints
# nothing (status 1) if there is none.
rdlm_t() {
  awk -v re="$2" -v after="${3:-0}" '
    { t = $1; l = substr($0, length($1) + 2) }
    l ~ /^GDLM-DMESG / { next }
    t + 0 > after + 0 && l ~ re { print t; found = 1; exit }
    END { exit !found }' "$1"
}

# rdlm_before A B [SLACK]: host time A is not later than B + SLACK (default 0.5 s: the
# stampers read each log on their own; lines of two VMs written a few ms apart may be read in
# either order). False if either is empty.
rdlm_before() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" -v s="${3:-0.5}" 'BEGIN {exit !(a <= b + s)}'; }

rdlm_vm_alive() { [ -n "${RDLM_VMPID[$1]:-}" ] && kill -0 "${RDLM_VMPID[$1]}" 2>/dev/null; }

# rdlm_vm_kill NODE [SIG]: stop one VM by its PID (TERM, then KILL after 3 s)
rdlm_vm_kill() {
  local n=$1 sig=${2:-TERM} pid=${RDLM_VMPID[$1]:-} i
  [ -n "$pid" ] || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "RDLM_VMPID[$n]"
}

# rdlm_vm_wait NODE TIMEOUT: wait for the VM to power itself off; kill it at the deadline
rdlm_vm_wait() {
  local n=$1 end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    rdlm_vm_alive "$n" || { unset "RDLM_VMPID[$n]"; return 0; }
    sleep 0.2
  done
  say "node$n: still running after $2 s, killing it"
  rdlm_vm_kill "$n"
  return 1
}

# rdlm_wait_log FILE REGEX TIMEOUT [NODE]: wait for a line; gives up early if NODE's VM exits
rdlm_wait_log() {
  local f=$1 re=$2 end=$((SECONDS + $3)) n=${4:-}
  while [ $SECONDS -lt $end ]; do
    grep -aqE "$re" "$f" 2>/dev/null && return 0
    if [ -n "$n" ] && ! rdlm_vm_alive "$n"; then
      grep -aqE "$re" "$f" 2>/dev/null
      return
    fi
    sleep 0.2
  done
  return 1
}

# rdlm_fail_report DIR: what a reader of CI's output needs when a scenario failed and its
# results folder is not at hand: each VM's fate and the end of its serial log (kernel panics,
# a guest script stuck on a step, a daemon's last lines). Written to DIR/failure.txt; the run
# prints every failed scenario's report after the timings.
rdlm_fail_report() {
  local d=$1 f n
  for f in "$d"/node[0-9]*.log; do
    [ -f "$f" ] || continue
    n=${f##*/node}
    n=${n%.log}
    if grep -aq '^GDLM-DMESG ' "$f"; then
      echo "node$n: the guest ran to its end (final dmesg dumped)"
    else
      echo "node$n: no final dmesg dump: the guest was killed, hung or panicked"
    fi
    grep -aE 'Kernel panic|BUG:|Oops|TIMEOUT waiting|still running after' "$f" | tr -d '\r' | head -5 | sed 's/^/    !! /'
    echo "  corosync's last membership lines on node$n:"
    grep -a '^GDLM-COROSYNC ' "$f" | tr -d '\r' | grep -aE 'membership|failed|Token|Members' | tail -n 4 | cut -c1-200 | sed 's/^/    /'
    echo "  last lines of node$n's serial log (corosync's left out):"
    grep -avE '^GDLM-(DMESG|COROSYNC) ' "$f" | tr -d '\r' | grep -av '^[[:space:]]*$' | tail -n 25 | cut -c1-220 | sed 's/^/    /'
  done >"$d/failure.txt"
}

rdlm_cleanup() {
  local n
  for n in "${!RDLM_VMPID[@]}"; do rdlm_vm_kill "$n"; done
  for n in "${!RDLM_STAMPPID[@]}"; do kill "${RDLM_STAMPPID[$n]}" 2>/dev/null; unset "RDLM_STAMPPID[$n]"; done
  rdlm_net_down
  _rdlm_chroot_umount
}

# rdlm_split DIR NODE: the guest's kernel log (its final `dmesg` dump) and its harness lines
rdlm_split() {
  local d=$1 n=$2
  rdlm_stamp_wait
  sed -n 's/^GDLM-DMESG //p' "$d/node$n.log" | tr -d '\r' >"$d/node$n.dmesg"
  grep -a '^GDLM\[' "$d/node$n.log" | tr -d '\r' >"$d/node$n.harness" || true
}

# rdlm_klog D N: node N's kernel lines of gdlm.ko, gdlm_rfl.ko, gfs2 and the dlm as its serial
# console showed them (a killed node's too), without the timestamp: D/nodeN.klog. gdlm_rfl.ko's
# "gdlm_rfl: gdlm: ..." prefix becomes "gdlm: ...", so both modules' lines read the same.
rdlm_klog() {
  local d=$1 n=$2
  grep -avE '^GDLM' "$d/node$n.log" | grep -aE '\] (gdlm_rfl|gdlm|gfs2|dlm): ' | tr -d '\r' |
    sed 's/^.*\[ *[0-9.]*\] \(gdlm_rfl: \)\{0,1\}\(gdlm\|gfs2\|dlm\): /\2: /' >"$d/node$n.klog"
}
