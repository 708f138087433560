#!/usr/bin/env bash
# The container runtime for Minikube's `none` driver, which runs Kubernetes on the VM itself: containerd and the
# CNI plugins from the distribution (containerd configured for the systemd cgroup driver, as the kubelet is), and
# crictl at the pinned version, checked against its published SHA-256.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
export DEBIAN_FRONTEND=noninteractive
if skipping_downloads; then
  log "container runtime: skipped (offline build)"
  exit 0
fi
: "${CRICTL_VERSION:?}" "${AIRY_ARCH:?}"
apt-get install -y -qq --no-install-recommends containerd containernetworking-plugins
# Held: minikube edits containerd 1.x's config, and an upgrade (a 2.x, or a restart mid-way through kubeadm's init)
# must come with a new box, never by itself (updates.sh turns the background updaters off too).
apt-mark hold containerd runc >/dev/null
install -d -m 0755 /etc/containerd
containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/; s|config_path = ""|config_path = "/etc/containerd/certs.d"|' >/etc/containerd/config.toml
# The builder's registry mirror (airy-box build --registry-mirror, checked there to be a plain http(s) URL) for
# Docker Hub, whose anonymous pull limit a second build on the same address meets; images.sh removes it again.
if [ -n "${AIRY_REGISTRY_MIRROR:-}" ]; then
  write_registry_mirror /etc/containerd/certs.d "$AIRY_REGISTRY_MIRROR"
  log "container runtime: Docker Hub through the mirror $AIRY_REGISTRY_MIRROR"
fi
systemctl enable containerd
systemctl restart containerd
# Minikube looks for the CNI plugins in /opt/cni/bin; Debian and Ubuntu put them in /usr/lib/cni.
install -d -m 0755 /opt/cni
[ -e /opt/cni/bin ] || ln -s /usr/lib/cni /opt/cni/bin

tmp=$(mktemp -d)
tarball="crictl-${CRICTL_VERSION}-linux-${AIRY_ARCH}.tar.gz"
url="https://github.com/kubernetes-sigs/cri-tools/releases/download/${CRICTL_VERSION}/${tarball}"
download_verified "$url" "$tmp/$tarball" "$url.sha256"
tar -xzf "$tmp/$tarball" -C /usr/local/bin crictl
rm -rf "$tmp"
printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\n' >/etc/crictl.yaml
log "container runtime: $(containerd --version | cut -d' ' -f1-3) (held with runc), crictl ${CRICTL_VERSION}"

# What the kubelet and kube-proxy need of the kernel, now and at every boot.
printf 'overlay\nbr_netfilter\n' >/etc/modules-load.d/airy-kubernetes.conf
modprobe overlay
modprobe br_netfilter
cat >/etc/sysctl.d/90-airy-kubernetes.conf <<'CONF'
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
# Minikube's none driver writes into /tmp files another user made.
fs.protected_regular = 0
CONF
sysctl --system >/dev/null
