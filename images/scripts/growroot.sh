#!/usr/bin/env bash
# Grows the root partition and its filesystem to the whole disk, at every boot (airy-growroot.service; a no-op
# once they fill it). A box's disk may be bigger than the one it was built on: VirtualBox's grown disk, or
# vagrant-libvirt's machine_virtual_size. cloud-init's growpart would do it, but with no seed at a Vagrant boot
# cloud-init does not run.
#   growroot.sh [ROOT_DEVICE]   (default: the device mounted on /)
set -euo pipefail
log() { printf '[airy] %s\n' "$*"; }
part=${1:-$(findmnt -n -o SOURCE /)}
disk=/dev/$(lsblk -no PKNAME "$part" | head -n 1)
number=$(cat "/sys/class/block/$(basename "$part")/partition")
# growpart: 0 grew it, 1 nothing to grow, 2 failed.
status=0
growpart "$disk" "$number" >/dev/null || status=$?
case $status in
  0) log "growroot: $part grown to the end of $disk" ;;
  1) log "growroot: $part already fills $disk"; exit 0 ;;
  *) log "growroot: growpart $disk $number failed ($status)"; exit 1 ;;
esac
resize2fs "$part" >/dev/null 2>&1
log "growroot: the filesystem on $part fills its partition"
