#!/usr/bin/env bash
# npm run guest:build: the small guest and a QEMU fit for migration, for `migbench calibrate`.
#   build/guest/vmlinuz           the Debian cloud kernel (from its .deb, not installed)
#   build/guest/initramfs.cpio.gz busybox-static, /init (guest/init) and /dirtier (the references'
#                                 own bench/reference/qemu/dirtier.c, compiled statically with musl)
#   build/qemu/qemu-system-x86_64 QEMU 10.0.2 from Debian's bookworm-backports, unpacked here (not
#                                 installed): bookworm's own 7.2 loses guest writes when migrating
#                                 under TCG (fixed in QEMU 9.0, "physmem: Fix migration dirty bitmap
#                                 coherency with TCG memory access")
# Debian packages it needs are installed when missing (as root): busybox-static musl-tools cpio, and
# qemu-system-x86 (bookworm's) for QEMU's runtime libraries. Set MIGBENCH_QEMU_SKIP=1 to build the
# guest only (a QEMU of your own, 9.0 or later, given with --qemu).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
G="$ROOT/build/guest"
Q="$ROOT/build/qemu"
mkdir -p "$G"

need=()
for p in busybox-static musl-tools cpio qemu-system-x86; do
  dpkg -s "$p" > /dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "guest:build: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" \
    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"; }
fi

# The kernel: the concrete image package the cloud metapackage depends on, downloaded and unpacked.
if [ ! -s "$G/vmlinuz" ]; then
  KPKG="${KPKG:-$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')}"
  T="$(mktemp -d)"
  trap 'rm -rf "$T"' EXIT
  (cd "$T" && apt-get download "$KPKG")
  dpkg-deb --fsys-tarfile "$T"/*.deb | tar -x -C "$T" ./boot
  cp "$T"/boot/vmlinuz-* "$G/vmlinuz"
  basename "$T"/boot/vmlinuz-* > "$G/kernel-version.txt"
  echo "$KPKG $(dpkg-deb -f "$T"/*.deb Version)" > "$G/kernel-package.txt"
fi

# The writer, static, and the initramfs.
musl-gcc -O2 -static -Wall -o "$G/dirtier" "$ROOT/bench/reference/qemu/dirtier.c"
R="$G/rootfs"
rm -rf "$R"
mkdir -p "$R"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$R/bin/busybox"
cp "$G/dirtier" "$R/dirtier"
cp "$ROOT/guest/init" "$R/init"
chmod 755 "$R/init" "$R/dirtier" "$R/bin/busybox"
(cd "$R" && find . -print0 | cpio --null -o -H newc --owner=0:0 2> /dev/null | gzip -9 > "$G/initramfs.cpio.gz")
rm -rf "$R"
echo "guest:build: $G/vmlinuz ($(cat "$G/kernel-version.txt")), $G/initramfs.cpio.gz"

[ "${MIGBENCH_QEMU_SKIP:-}" = 1 ] && exit 0
if [ -x "$Q/qemu-system-x86_64" ] && "$Q/qemu-system-x86_64" --version > /dev/null 2>&1; then
  echo "guest:build: $("$Q/qemu-system-x86_64" --version | head -1) already in $Q"
  exit 0
fi
# QEMU from bookworm-backports, through a private apt configuration (nothing installed system-wide).
QV="${QEMU_DEB_VERSION:-1:10.0.2+ds-2+deb13u1~bpo12+1}"
SV="${SEABIOS_DEB_VERSION:-1.16.3-2~bpo12+1}"
A="$(mktemp -d)"
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs" "$A/root"
URI="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2> /dev/null || true)"
echo "deb ${URI:-http://deb.debian.org/debian} bookworm-backports main" > "$A/sources.list"
APTO=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache")
apt-get "${APTO[@]}" update > /dev/null
(cd "$A/debs" && apt-get "${APTO[@]}" download \
  "qemu-system-x86=$QV" "qemu-system-common=$QV" "qemu-system-data=$QV" "seabios=$SV")
for f in "$A"/debs/*.deb; do dpkg-deb -x "$f" "$A/root"; done
rm -rf "$Q"
mkdir -p "$Q/bin" "$Q/share/qemu"
cp "$A/root/usr/bin/qemu-system-x86_64" "$Q/bin/"
cp -r "$A/root/usr/share/seabios" "$Q/share/seabios"
for f in linuxboot.bin linuxboot_dma.bin kvmvapic.bin multiboot.bin multiboot_dma.bin pvh.bin qboot.rom vgabios-stdvga.bin; do
  [ -e "$A/root/usr/share/qemu/$f" ] && cp "$A/root/usr/share/qemu/$f" "$Q/share/qemu/"
done
cp -r "$A/root/usr/share/qemu/keymaps" "$Q/share/qemu/" 2> /dev/null || true
cat > "$Q/qemu-system-x86_64" << 'W'
#!/bin/sh
D="$(cd "$(dirname "$0")" && pwd)"
exec "$D/bin/qemu-system-x86_64" -L "$D/share/qemu" -L "$D/share/seabios" "$@"
W
chmod +x "$Q/qemu-system-x86_64"
rm -rf "$A"
echo "guest:build: $("$Q/qemu-system-x86_64" --version | head -1) in $Q"
