#!/usr/bin/env bash
# Makes the box small without ever filling its disk: apt's caches and lists, the payload and the logs go, then the
# free blocks are discarded (fstrim). The build's qemu disk passes discards through (`disk_discard = "unmap"`,
# sources.pkr.hcl), so every freed block becomes a hole in the qcow2 and Packer's compaction leaves it out.
# No zero-fill (`dd if=/dev/zero` until the disk is full): it grew the build's qcow2 to its whole virtual size
# (40 GiB; ~50 GB on the host with the compacted copy), past what preflight asks, and when the host's disk fills
# qemu pauses the guest, so the build hung rather than failed (images/README.md, "The build's disk").
# AIRY_ROOT (tests) runs it on a folder; fstrim and sync are the system's.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
root=${AIRY_ROOT:-}

# What `apt-get clean` removes, by path, so the script touches nothing outside AIRY_ROOT.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/archives/partial/* "$root"/var/cache/apt/*.bin
rm -rf "$root"/var/lib/apt/lists/* "$root/tmp/airy-payload"
if [ -d "$root/var/log" ]; then find "$root/var/log" -type f -exec truncate -s 0 {} +; fi
sync
# A disk that does not pass discards (a VirtualBox disk attached without --discard on) keeps the freed blocks: the
# box is larger, never broken, so this is said and the build goes on.
if trimmed=$(fstrim --verbose "${root:-/}" 2>&1); then
  log "minimize: $trimmed"
else
  log "minimize: fstrim could not discard the free blocks (${trimmed:-no reason given}): the box keeps them and is larger"
fi
