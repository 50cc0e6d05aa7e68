#!/usr/bin/env bash
# Build (or reuse) the Debian 12 guest image of the system test.
#
#   build-image.sh CACHE_DIR
#
# mmdebstrap makes a minimal bookworm from Debian's own packages: systemd,
# udev, rsyslog, Debian's nodejs, openssh-server (the test's control
# channel), the kernel, and everything xs-rsync's .deb depends on or
# recommends, so `apt install ./xs-rsync_*.deb` in the guest needs no network.
# The result, in CACHE_DIR:
#   rootfs.img (raw ext4; only ever a read-only backing file), vmlinuz, initrd.img,
#   ssh_key (+ .pub; a throwaway key for this image only), key (the inputs' hash).
# When CACHE_DIR/key matches the hash of this script and its inputs, nothing is
# done (about 0.1 s). Downloaded .debs are kept in CACHE_DIR/debs for rebuilds.
# Prints CACHE_DIR on the last line. Needs root, mmdebstrap, e2fsprogs, ssh-keygen.
# Env: XS_VM_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
CACHE=${1:?usage: build-image.sh CACHE_DIR}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
MIRROR=${XS_VM_MIRROR:-http://deb.debian.org/debian}
SECURITY=${MIRROR%/debian}/debian-security
SUITE=bookworm
PACKAGES="systemd,systemd-sysv,udev,dbus,rsyslog,nodejs,rsync,fakeroot,attr,lbzip2,bzip2,xz-utils,gnupg,fusefat"
PACKAGES+=",mount,util-linux,init-system-helpers,linux-image-amd64,openssh-server,kmod,e2fsprogs,dosfstools,procps"
FREE_MB=768

log() { printf '[build-image %s] %s\n' "$(date +%T)" "$*" >&2; }
key=$( { echo "$MIRROR $SUITE $PACKAGES $FREE_MB"; cat "$0"; } | sha256sum | cut -c1-16)
if [ "$(cat "$CACHE/key" 2>/dev/null)" = "$key" ] && [ -f "$CACHE/rootfs.img" ] && [ -f "$CACHE/vmlinuz" ] && [ -f "$CACHE/initrd.img" ]; then
  log "image $key is cached in $CACHE"
  echo "$CACHE"
  exit 0
fi
rm -f "$CACHE/key"
t0=$(date +%s)
rm -f "$CACHE/ssh_key" "$CACHE/ssh_key.pub"
ssh-keygen -q -t ed25519 -N '' -C xs-rsync-system-test -f "$CACHE/ssh_key"
root="$CACHE/rootfs.dir"
rm -rf "$root"
mkdir -p "$CACHE/debs"

# Hooks run on the host with $1 = the guest's root folder.
# Before the kernel is installed: an initramfs with only what a qemu guest needs
# for its root (Debian's MODULES=most one is 35 MB and costs ~9 s of boot under TCG).
essential_hook='set -e
mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"
echo MODULES=list > "$1/etc/initramfs-tools/conf.d/xs-test.conf"
printf "%s\n" virtio_pci virtio_blk ext4 crc32c_generic >> "$1/etc/initramfs-tools/modules"'

customize_hook='set -e
R=$1
echo xs-guest > "$R/etc/hostname"
printf "127.0.0.1 localhost\n127.0.1.1 xs-guest\n" > "$R/etc/hosts"
printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\n" > "$R/etc/fstab"
mkdir -p "$R/etc/systemd/network"
printf "[Match]\nName=e*\n\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n" > "$R/etc/systemd/network/10-qemu.network"
chroot "$R" systemctl enable systemd-networkd.service
# nothing waits for "online", and nothing periodic runs behind the test'"'"'s back
chroot "$R" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer e2scrub_reap.service getty@tty1.service
install -d -m 700 "$R/root/.ssh"
install -m 600 "$SSH_PUBKEY_FILE" "$R/root/.ssh/authorized_keys"
printf "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n" > "$R/etc/ssh/sshd_config.d/xs-test.conf"
# the journal kept on disk, so the power-cut step can read the boot before
mkdir -p "$R/var/log/journal"
# drop kernel modules a headless guest never loads (the initramfs is built already)
kdir=$(ls -d "$R"/lib/modules/* | sort -V | tail -1)
for d in sound drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging net/wireless \
  net/mac80211 drivers/bluetooth net/bluetooth drivers/iio drivers/isdn drivers/net/ethernet; do rm -rf "$kdir/kernel/$d"; done
chroot "$R" depmod -a "$(basename "$kdir")"
rm -rf "$R"/var/lib/apt/lists/*'

log "mmdebstrap $SUITE: $PACKAGES"
SSH_PUBKEY_FILE="$CACHE/ssh_key.pub" mmdebstrap --mode=root --variant=minbase --include="$PACKAGES" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-include=/usr/share/doc/xs-rsync/*' \
  --skip=essential/unlink \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
  --setup-hook="sync-in '$CACHE/debs' /var/cache/apt/archives/" \
  --essential-hook="$essential_hook" \
  --customize-hook="sync-out /var/cache/apt/archives '$CACHE/debs'" \
  --customize-hook="$customize_hook" \
  "$SUITE" "$root" "deb $MIRROR $SUITE main" "deb $SECURITY $SUITE-security main" >&2
kver=$(ls "$root/lib/modules" | sort -V | tail -1)
cp "$root/boot/vmlinuz-$kver" "$CACHE/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$CACHE/initrd.img"
used=$(du -sm "$root" | cut -f1)
rm -f "$CACHE/rootfs.img.tmp"
truncate -s "$(( used * 115 / 100 + FREE_MB ))M" "$CACHE/rootfs.img.tmp"
mkfs.ext4 -q -F -L xsroot -d "$root" "$CACHE/rootfs.img.tmp"
mv "$CACHE/rootfs.img.tmp" "$CACHE/rootfs.img"
rm -rf "$root"
echo "$key" > "$CACHE/key"
log "image $key built in $(( $(date +%s) - t0 )) s (kernel $kver, $used MB)"
echo "$CACHE"
