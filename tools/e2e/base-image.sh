#!/usr/bin/env bash
# Builds the e2e base image offline: a minimal Debian (bookworm) with a kernel, GRUB, sshd, systemd-networkd DHCP,
# and the vagrant user with Vagrant's insecure key and passwordless sudo, as a qcow2. It goes into the box build
# through the same variable as a cloud image: airy-box build --base-image FILE.
# Usage: base-image.sh OUT.qcow2   (as root; needs debootstrap, sfdisk, losetup, qemu-img)
set -euo pipefail
out=${1:?usage: base-image.sh OUT.qcow2}
suite=bookworm
size=3G
pubkey=$(find /usr/share/rubygems-integration/all/gems /opt/vagrant/embedded/gems -path '*/keys/vagrant.pub' 2>/dev/null | head -n 1 || true)
[ -n "$pubkey" ] || { echo "base-image: Vagrant's insecure key was not found: install vagrant" >&2; exit 3; }

work=$(mktemp -d)
raw="$work/disk.raw"
mnt="$work/root"
loop=""
cleanup() {
  set +e
  for m in dev/pts dev proc sys ""; do mountpoint -q "$mnt/$m" && umount "$mnt/$m"; done
  [ -n "$loop" ] && losetup -d "$loop"
  rm -rf "$work"
}
trap cleanup EXIT

truncate -s "$size" "$raw"
echo 'type=83, bootable' | sfdisk -q "$raw"
loop=$(losetup -f --show -P "$raw")
partx -a "$loop" 2>/dev/null || true
part="${loop}p1"
[ -b "$part" ] || { echo "base-image: no partition node $part" >&2; exit 1; }
mkfs.ext4 -q -L root "$part"
mkdir -p "$mnt"
mount "$part" "$mnt"

debootstrap --variant=minbase \
  --include=linux-image-amd64,grub-pc,systemd-sysv,openssh-server,sudo,iproute2,ca-certificates \
  "$suite" "$mnt" "${DEBIAN_MIRROR:-}" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

mount --bind /dev "$mnt/dev"
mount --bind /dev/pts "$mnt/dev/pts"
mount -t proc proc "$mnt/proc"
mount -t sysfs sys "$mnt/sys"

uuid=$(blkid -s UUID -o value "$part")
echo "UUID=$uuid / ext4 defaults 0 1" >"$mnt/etc/fstab"
echo airy-base >"$mnt/etc/hostname"
printf "127.0.0.1 localhost\n127.0.1.1 airy-base\n" >"$mnt/etc/hosts"
: >"$mnt/etc/machine-id"
cat >"$mnt/etc/systemd/network/80-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=yes
NET
chroot "$mnt" systemctl enable systemd-networkd ssh >/dev/null 2>&1
chroot "$mnt" useradd -m -s /bin/bash vagrant
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$mnt/etc/sudoers.d/vagrant"
chmod 0440 "$mnt/etc/sudoers.d/vagrant"
install -d -m 0700 -o 1000 -g 1000 "$mnt/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$pubkey" "$mnt/home/vagrant/.ssh/authorized_keys"
# A serial console and no waiting in the boot menu: the build VM has no screen.
sed -i 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/; s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200 net.ifnames=0"/' "$mnt/etc/default/grub"
# Vagrant-libvirt's VM may have no video device at all: GRUB talks to the serial port too.
printf 'GRUB_TERMINAL="serial console"\nGRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\n' >>"$mnt/etc/default/grub"
chroot "$mnt" grub-install --target=i386-pc "$loop" >/dev/null 2>&1
chroot "$mnt" update-grub >/dev/null 2>&1
# update-grub saw the loop device; the VM must find its root by UUID.
sed -i "s|root=/dev/loop[0-9]*p1|root=UUID=$uuid|g" "$mnt/boot/grub/grub.cfg"
chroot "$mnt" apt-get clean

cleanup_mounts() { for m in dev/pts dev proc sys; do umount "$mnt/$m"; done; umount "$mnt"; }
cleanup_mounts
losetup -d "$loop"
loop=""
qemu-img convert -O qcow2 "$raw" "$out"
echo "base-image: $out ($(du -h "$out" | cut -f1))"
