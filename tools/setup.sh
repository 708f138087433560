#!/usr/bin/env bash
# Installs the Debian packages the tests and the box build use (run as root, or with sudo), then builds the
# control plane's programs and kubectl from their Go modules (tools/control-plane/build.sh; needs Go).
# Safe to re-run: apt-get skips what is already installed.
set -euo pipefail

packages=(
  shellcheck        # lint of the shell scripts
  netplan.io        # box-builder: netplan renders what the box build leaves of the network config
  jq                # box-builder: the image store check of images.sh, run with stand-ins
  bash-completion   # every CLI: its `completion bash` script is sourced and run in a real bash
  ca-certificates
  git
  packer            # box-builder: packer validate and build (1.6.6, builders bundled)
  vagrant           # box-builder and bootstrap: vagrant box add, validate
  vagrant-libvirt   # the libvirt provider
  qemu-utils        # qemu-img for test boxes
  qemu-system-x86   # the qemu builder
  awscli            # the upload benchmark's peer
  debootstrap       # e2e: the offline base image
  cloud-guest-utils # box-builder: growpart, which the box's growroot runs, tried on a loop device
  fdisk             # e2e: sfdisk partitions it
  xorriso           # packer's cd_files (the cloud-init seed)
  libvirt-daemon-system  # e2e: libvirtd for vagrant-libvirt, run inside a network namespace
  dnsmasq-base      # e2e: DHCP of vagrant-libvirt's network
  postgresql        # bootstrap: the upgrade's database carry-over, dumped and restored for real
  aria2             # bench:download: aria2c, the peer on the emulated links
  zsync             # bench:delta: zsync, a peer of the delta upgrade
  casync            # bench:delta: casync, the other peer
  chromium          # ngrok-tunnel: the inspector's browser test (driven by playwright-core)
)

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 2; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "setup: Debian packages ready: ${packages[*]}"

# kubectl at the box's Kubernetes version, and the control plane the cluster suite runs (tools/control-plane):
# no test depends on a kubectl the machine happens to have. Only what changed is built.
bash "$(dirname "$0")/control-plane/build.sh"
