#!/usr/bin/env bash
# Makes the box a template that boots on any machine, then small.
# - Identity and network: during the build cloud-init wrote /etc/netplan/50-cloud-init.yaml matching the build
#   VM's MAC (`match: macaddress`, `set-name`), and the build's /etc/machine-id and instance state. Vagrant gives
#   every VM a new MAC, so that file would leave the box without an address. cloud-init's own reset clears its
#   state, logs and the machine-id; the MAC-pinned netplan goes, a unit that gives the first NIC DHCP at every boot
#   (whatever its MAC) replaces it, the network is online once any one NIC has an address, and cloud-init is told
#   never to write network configuration again.
# - SSH host keys: the build's removed, each VM makes its own at first boot.
# Making the box small is minimize.sh's, which runs after this.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
# shellcheck source=/dev/null
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/airy.env"
root=${AIRY_ROOT:-}

if command -v cloud-init >/dev/null; then
  cloud-init clean --logs --machine-id || cloud-init clean --logs
fi
# An empty machine-id (not a missing one) makes systemd generate a new one at the next boot: every VM of the box
# gets its own, and with it its own DHCP client id.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
[ -d "$root/var/lib/dbus" ] && ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"

install -d -m 0755 "$root/etc/netplan" "$root/etc/cloud/cloud.cfg.d"
# Every netplan file that pins an interface to a MAC was written for the build VM.
for file in "$root"/etc/netplan/*.yaml "$root"/etc/netplan/*.yml; do
  [ -e "$file" ] || continue
  if grep -qiE '(macaddress|set-name)[[:space:]]*:' "$file" || [ "$(basename "$file")" = 50-cloud-init.yaml ]; then
    log "cleanup: removing $(basename "$file") (written for the build VM)"
    rm -f "$file"
  fi
done
# DHCP on the first NIC only: the management NIC, whose lease carries the default route. A NIC of a private network
# must never take one (a second default route, and Minikube's none driver may take the node address from it), and
# Vagrant writes its static address anyway (50-vagrant.yaml). Netplan cannot name "the first NIC" with a new MAC at
# every `vagrant up`, so airy-first-nic picks it at every boot, before systemd-networkd, and writes this boot's
# netplan in /run (first-nic.sh says how it picks).
# Not `optional`: netplan renders that as RequiredForOnline=no, and with every link so marked
# systemd-networkd-wait-online has nothing to wait for: Debian's waits out its 2-minute timeout (systemd#29388),
# Ubuntu's exits at once (its patch for LP#2036358), before DHCP, and the first `minikube start` (after
# network-online.target) would meet a NIC without an address. Instead wait-online waits for any one NIC with an
# IPv4 address (the drop-in below), so a NIC without DHCP does not hold up the boot either.
payload=${AIRY_PAYLOAD:-/tmp/airy-payload}
install -d -m 0755 "$root/usr/local/bin" "$root/etc/systemd/system/multi-user.target.wants"
install -m 0755 "$payload/scripts/first-nic.sh" "$root/usr/local/bin/airy-first-nic"
install -m 0644 "$payload/files/airy-first-nic.service" "$root/etc/systemd/system/airy-first-nic.service"
# What `systemctl enable` does for its WantedBy=, without a running systemd (the tests write into a folder).
ln -sfn /etc/systemd/system/airy-first-nic.service "$root/etc/systemd/system/multi-user.target.wants/airy-first-nic.service"
# Named to sort after any drop-in a netplan version generates for wait-online, so this ExecStart is the one run.
install -d -m 0755 "$root/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$root/etc/systemd/system/systemd-networkd-wait-online.service.d/99-airy-any-nic.conf" <<'UNIT'
# Written by the Airy Core box build: online once any one NIC has an IPv4 address.
[Service]
ExecStart=
ExecStart=/usr/lib/systemd/systemd-networkd-wait-online --any --ipv4
UNIT
cat >"$root/etc/cloud/cloud.cfg.d/99-airy-network.cfg" <<'CFG'
# Written by the Airy Core box build: the network is the box's netplan, not a config cloud-init derives at boot.
network: {config: disabled}
CFG
# The VM's own name resolves without DNS, as Debian's installer writes it: `sudo` and `hostname -f` look it up, and
# with no answer in /etc/hosts they wait on DNS (offline: a timeout each), and Vagrant's hostname step, finding
# `hostname -f` wrong, renames the VM and restarts its network at every `vagrant up`.
hosts="$root/etc/hosts"
if ! grep -qE "^[^#]*[[:space:]]${AIRY_VM_HOSTNAME:?}([[:space:]]|\$)" "$hosts" 2>/dev/null; then
  printf '127.0.1.1\t%s\n' "$AIRY_VM_HOSTNAME" >>"$hosts"
fi
# SSH host keys are the VM's identity: the build's would be every VM's (one key to impersonate them all). Removed
# here, made anew at each VM's first boot before sshd starts (airy-ssh-host-keys.service: ssh-keygen -A). The
# build's own session keeps running; nothing connects again before the shutdown.
rm -f "$root"/etc/ssh/ssh_host_*_key "$root"/etc/ssh/ssh_host_*_key.pub
install -m 0644 "$payload/files/airy-ssh-host-keys.service" "$root/etc/systemd/system/airy-ssh-host-keys.service"
ln -sfn /etc/systemd/system/airy-ssh-host-keys.service "$root/etc/systemd/system/multi-user.target.wants/airy-ssh-host-keys.service"
log "cleanup: cloud-init state, machine-id, SSH host keys and the build VM's network config reset"
