#!/usr/bin/env bash
# A network namespace with its own libvirtd, for booting the e2e box without touching the host's network or its
# libvirt. `netns.sh up NAME DIR` prints the PID of the namespace's libvirtd (enter it with nsenter -t PID -m -n);
# `netns.sh down NAME DIR` stops the daemons it started and removes the namespace.
set -euo pipefail
action=${1:?usage: netns.sh up|down NAME DIR}
ns=${2:?name}
dir=${3:?state folder}

if [ "$action" = down ]; then
  for pidfile in "$dir/libvirtd.pid" "$dir/virtlogd.pid"; do
    if [ -s "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  # Whatever else runs in the namespace was started from it (libvirt's dnsmasq, a VM): end it too.
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  sleep 1
  ip netns del "$ns" 2>/dev/null || true
  exit 0
fi

# A fresh private root each time: nothing of an earlier (perhaps interrupted) run may linger.
rm -rf "$dir/root"
mkdir -p "$dir"
ip netns add "$ns"
# Inside: a private mount space with private copies of libvirt's folders, so the namespace's libvirtd shares
# nothing with the host's.
ip netns exec "$ns" bash -s "$dir" <<'INSIDE'
set -euo pipefail
dir=$1
mount --make-rprivate /
for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /etc/libvirt; do
  mkdir -p "$dir/root$d" "$d"
done
cp -a /etc/libvirt/. "$dir/root/etc/libvirt/"
rm -f "$dir/root/etc/libvirt/qemu/networks/default.xml" "$dir/root/etc/libvirt/qemu/networks/autostart/default.xml"
cat >>"$dir/root/etc/libvirt/qemu.conf" <<'CONF'
user = "root"
group = "root"
security_driver = "none"
namespaces = []
remember_owner = 0
CONF
for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /etc/libvirt; do
  mount --bind "$dir/root$d" "$d"
done
ip link set lo up
virtlogd -d -p "$dir/virtlogd.pid"
libvirtd -d -p "$dir/libvirtd.pid"
for _ in $(seq 1 50); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.2; done
INSIDE
cat "$dir/libvirtd.pid"
