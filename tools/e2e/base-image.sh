#!/usr/bin/env bash
# Builds the e2e base image offline: a minimal Debian (bookworm) that behaves like the Ubuntu cloud image it stands
# in for, where the box's first boot depends on it. Like the cloud image it has a kernel, GRUB, sshd, and
# cloud-init with netplan as its network renderer (systemd-networkd underneath), and no user to log in with:
# cloud-init makes the vagrant user from the build's NoCloud seed (the cidata CD), exactly as on Ubuntu, and
# writes /etc/netplan/50-cloud-init.yaml matching the build VM's MAC. It also cleans /tmp at boot, as Ubuntu
# does. So the offline build meets what the online build meets: a box that keeps the build's network
# configuration gets no address under vagrant-libvirt's new MAC. It goes into the box build through the same
# variable as a cloud image: airy-box build --base-image FILE.
# Usage: base-image.sh OUT.qcow2   (as root; needs debootstrap, sfdisk, losetup, qemu-img)
set -euo pipefail
out=${1:?usage: base-image.sh OUT.qcow2}
suite=bookworm
size=3G

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
# cloud-init and netplan as the cloud image has them (with growpart), installed by apt in the chroot: debootstrap's
# own configure pass fails on their Python dependencies.
chroot "$mnt" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$work/debootstrap.log" 2>&1
chroot "$mnt" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cloud-init netplan.io cloud-guest-utils \
  >>"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

uuid=$(blkid -s UUID -o value "$part")
echo "UUID=$uuid / ext4 defaults 0 1" >"$mnt/etc/fstab"
echo airy-base >"$mnt/etc/hostname"
printf "127.0.0.1 localhost\n127.0.1.1 airy-base\n" >"$mnt/etc/hosts"
: >"$mnt/etc/machine-id"
# cloud-init as the Ubuntu cloud image runs it: netplan as the network renderer, so that its fallback network
# config is /etc/netplan/50-cloud-init.yaml with `match: macaddress` and `set-name`; and more than one datasource
# besides None, as Ubuntu lists, so that ds-identify searches them: with no seed at a later boot it finds none and
# disables cloud-init (its built-in policy, notfound=disabled), and that file stays as the build left it. (With a
# single datasource ds-identify would skip the search and enable cloud-init at every boot, unlike Ubuntu.)
# What does nothing for the box and only costs minutes under TCG is left out: the locale (Ubuntu's image has its
# locale already), host keys other than ed25519, and cloud-init's config and final stages (the seed asks them for
# nothing; the network, the user and the SSH keys are the local and init stages', which run as on Ubuntu).
cat >"$mnt/etc/cloud/cloud.cfg.d/05-as-ubuntu.cfg" <<'CFG'
datasource_list: [NoCloud, ConfigDrive, None]
system_info:
  network:
    renderers: [netplan]
locale: false
ssh_genkeytypes: [ed25519]
CFG
chroot "$mnt" systemctl enable systemd-networkd ssh cloud-init-local cloud-init >/dev/null 2>&1
chroot "$mnt" systemctl mask cloud-config.service cloud-final.service >/dev/null 2>&1
# No user of its own: the build logs in as the vagrant user that cloud-init makes from the seed.
if chroot "$mnt" getent passwd vagrant >/dev/null; then echo "base-image: a vagrant user exists before cloud-init" >&2; exit 1; fi
# A serial console and no waiting in the boot menu: the build VM has no screen.
sed -i 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/; s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200"/' "$mnt/etc/default/grub"
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
