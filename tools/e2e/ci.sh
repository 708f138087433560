#!/usr/bin/env bash
# Runs the end-to-end path when this machine can: root (loop devices, mounts), and the real tools. Otherwise it
# says in one line why it skipped, and succeeds, except under CI=true, where a skipped e2e is a failure (CI
# installs everything it needs: a skip there means an install step broke).
set -euo pipefail
cd "$(dirname "$0")/../.."

# The online end to end needs the internet (the Ubuntu cloud image, Minikube, Kubernetes, Istio, every image):
# AIRY_E2E_ONLINE=1 runs it instead of the offline one (see README, "Tests").
if [ "${AIRY_E2E_ONLINE:-0}" = 1 ]; then
  npx nx run-many -t compile -p box-builder bootstrap --outputStyle=static >/dev/null
  exec npx tsx tools/e2e/online.ts
fi
echo "e2e online: not run: AIRY_E2E_ONLINE is not 1 (it needs the internet for the Ubuntu image, Kubernetes and every image)"

# skip REASON: one line; exit 0 on a developer's machine, 1 in CI.
skip() {
  if [ "${CI:-}" = true ]; then
    echo "e2e: FAILED: it cannot run in CI: $1" >&2
    exit 1
  fi
  echo "e2e: skipped: $1"
  exit 0
}

missing=()
for tool in debootstrap sfdisk losetup packer qemu-system-x86_64 qemu-img vagrant xorriso; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ "$(id -u)" -eq 0 ] || skip "it needs root (loop devices and mounts for the base image)"
[ ${#missing[@]} -eq 0 ] || skip "missing ${missing[*]} (bash tools/setup.sh installs them)"
[ -e /dev/loop-control ] || skip "no loop devices on this machine"
npx nx run-many -t compile -p box-builder bootstrap --outputStyle=static >/dev/null

# Booting the box runs vagrant-libvirt in a network namespace made here, with its own libvirtd.
# AIRY_E2E_VM=0 leaves the boot out (a quicker run).
if [ "${AIRY_E2E_VM:-1}" = 0 ]; then
  echo "e2e: the VM boot is left out (AIRY_E2E_VM=0)"
  exec npx tsx tools/e2e/run.ts
fi
if ! command -v libvirtd >/dev/null || ! command -v nsenter >/dev/null; then
  [ "${CI:-}" = true ] && skip "libvirtd or nsenter is missing for the VM boot (bash tools/setup.sh installs them)"
  echo "e2e: the VM boot is skipped: libvirtd or nsenter is missing (bash tools/setup.sh installs them)"
  exec npx tsx tools/e2e/run.ts
fi
npx tsx tools/e2e/run.ts --base-only
ns="airy-e2e-$$"
state="${E2E_DIR:-/tmp/airy-e2e}/netns"
trap 'bash tools/e2e/netns.sh down "$ns" "$state"' EXIT
pid=$(bash tools/e2e/netns.sh up "$ns" "$state")
nsenter -t "$pid" -m -n --wd="$(pwd)" npx tsx tools/e2e/run.ts --vm
trap - EXIT
bash tools/e2e/netns.sh down "$ns" "$state"
if ip netns list | grep -q "^$ns\b"; then
  echo "e2e: the network namespace $ns is still there after teardown" >&2
  exit 1
fi
echo "e2e: teardown left no network namespace"
