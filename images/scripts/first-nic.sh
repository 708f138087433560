#!/usr/bin/env bash
# DHCP on the first NIC only, at every boot (airy-first-nic.service, before systemd-networkd). Installed as
# /usr/local/bin/airy-first-nic.
# Why: the box's VMs have a management NIC (Vagrant's, with DHCP and the default route) and, with a private network,
# a second one that must never take a lease: a lease there brings a second default route, and Minikube's none driver
# takes the node address from the first default route (images/README.md). Netplan cannot say "the first NIC": it
# matches names, drivers and MACs, and the MAC is new at every `vagrant up`. Both providers put the management NIC
# first on the PCI bus (vagrant-libvirt writes it first in the domain, libvirt gives NICs slots in that order;
# VirtualBox's adapter 1 is 00:03.0, adapter 2 00:08.0), so the first NIC is the one with the lowest device path,
# and this boot's netplan (in /run, gone at the next boot) matches it by its MAC.
#   first-nic.sh    AIRY_ROOT (a root to write into instead of /) and AIRY_SYS_NET (default /sys/class/net) for tests
set -euo pipefail
log() { printf '[airy] %s\n' "$*"; }
root=${AIRY_ROOT:-}
net=${AIRY_SYS_NET:-/sys/class/net}
dir="$root/run/netplan"
out="$dir/01-airy-first-nic.yaml"

# udev renames NICs (ens3, enp0s3) while it processes them; the first NIC is picked once they are all there.
if [ -z "$root" ] && command -v udevadm >/dev/null; then udevadm settle --timeout=30 || log "first NIC: udev still busy after 30 s; going on"; fi

# The physical NICs (a device behind them), "DEVICE_PATH NAME" sorted: PCI addresses are fixed-width hex, so the
# first line is the lowest slot.
nics() {
  local nic name
  for nic in "$net"/*; do
    name=${nic##*/}
    case $name in en* | eth*) ;; *) continue ;; esac
    [ -e "$nic/device" ] || continue
    printf '%s %s\n' "$(readlink -f "$nic/device")" "$name"
  done | LC_ALL=C sort
}
first=$(nics | head -n 1 | cut -d' ' -f2)
mac=""
[ -n "$first" ] && mac=$(tr -d '[:space:]' <"$net/$first/address")

install -d -m 0755 "$dir"
if [[ $mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]]; then
  (umask 077 && cat >"$out.tmp" <<NETPLAN
# Written at boot by airy-first-nic: DHCP on the first NIC ($first) only, matched by this boot's MAC.
network:
  version: 2
  renderer: networkd
  ethernets:
    airy-first-nic:
      match:
        macaddress: "$mac"
      dhcp4: true
NETPLAN
  )
  log "first NIC: $first ($mac) takes DHCP; no other NIC does"
else
  # No NIC found (or no MAC): DHCP on every NIC rather than none, so the VM stays reachable.
  (umask 077 && cat >"$out.tmp" <<'NETPLAN'
# Written at boot by airy-first-nic: no first NIC found, so DHCP on every NIC.
network:
  version: 2
  renderer: networkd
  ethernets:
    nic-en:
      match:
        name: "en*"
      dhcp4: true
    nic-eth:
      match:
        name: "eth*"
      dhcp4: true
NETPLAN
  )
  log "first NIC: none found under $net; DHCP on every NIC"
fi
mv "$out.tmp" "$out"
# netplan's generator ran before this unit; render again so that networkd, which starts after it, reads this file.
if [ -n "$root" ]; then netplan generate --root-dir "$root"; else netplan generate; fi
