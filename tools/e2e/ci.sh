#!/usr/bin/env bash
# Runs the end-to-end path when this machine can: root (loop devices, mounts), and the real tools. Otherwise it
# says in one line why it skipped, and succeeds.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
for tool in debootstrap sfdisk losetup packer qemu-system-x86_64 qemu-img vagrant xorriso; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: skipped: it needs root (loop devices and mounts for the base image)"
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e: skipped: missing ${missing[*]} (bash tools/setup.sh installs them)"
  exit 0
fi
if [ ! -e /dev/loop-control ]; then
  echo "e2e: skipped: no loop devices on this machine"
  exit 0
fi
npx nx run-many -t build -p box-builder bootstrap --outputStyle=static >/dev/null
exec npx tsx tools/e2e/run.ts
