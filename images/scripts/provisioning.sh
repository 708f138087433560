#!/usr/bin/env bash
# Starts Kubernetes (Minikube's `none` driver: on the VM itself, so the ingress gateway's NodePorts 80 and 443 are
# the VM's ports) and applies the Airy Core manifests in dependency order. Runs at boot (airy-core.service, which
# restarts it on failure) and converges whatever a killed or failed run left: every step checks the state it needs
# (Istio by its ingress gateway being ready, not by its namespace), applies are idempotent and retried, and the
# Secret's random password is made only when the Secret is missing.
#   provisioning.sh          start Kubernetes, create the Secrets, install Istio, apply the platform
#   provisioning.sh start    start Kubernetes only
#   provisioning.sh tunnel   apply the in-cluster tunnel only (its Secret from the token file, and its manifest)
# Its waits are bounded, and airy-core.service's TimeoutStartSec is above their sum (a test adds them up).
# Minikube has one home, the box's fact AIRY_MINIKUBE_HOME, whoever runs this: the unit at boot (no HOME) and a
# user with sudo (their HOME) reach the same cluster, never a second CA over the first.
set -euo pipefail
deployments=${AIRY_DEPLOYMENTS:-/opt/airy/deployments}
user=${AIRY_USER:-vagrant}
# The box's facts (namespace, Secrets, ports, reservation), written by airy-box build from @airy/manifests.
facts=${AIRY_FACTS:-/opt/airy/airy.env}
set -a
# shellcheck source=/dev/null
. "$facts"
set +a
: "${AIRY_NAMESPACE:?} ${AIRY_POSTGRES_SECRET:?} ${AIRY_POSTGRES_USER:?} ${AIRY_NODE_PORT_RANGE:?}"
: "${AIRY_POSTGRES_USER_KEY:?} ${AIRY_POSTGRES_PASSWORD_KEY:?} ${AIRY_SYSTEM_RESERVED:?} ${AIRY_KUBERNETES_VERSION:?}"
: "${AIRY_API_SERVER_PORT:?} ${AIRY_MINIKUBE_HOME:?}"
: "${AIRY_NGROK_SECRET:?} ${AIRY_NGROK_TOKEN_KEY:?} ${AIRY_TUNNEL_FILE:?} ${AIRY_NGROK_TOKEN_FILE:?} ${AIRY_LIFECYCLE:?}"
# Handed over by bootstrap when the user asks for the in-cluster tunnel; 0600, root's.
token_file=$AIRY_NGROK_TOKEN_FILE
lifecycle=$AIRY_LIFECYCLE
# log and retry (5 s doubling), shared with the build's scripts: installed beside the facts, or beside this script.
lib=${AIRY_LIB:-$(dirname "$0")/lib.sh}
[ -e "$lib" ] || lib=/opt/airy/lib.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$lib"
# Bounds of the waits (each adds to TimeoutStartSec's sum): a default route, Minikube's start, Istio's readiness.
route_wait=${AIRY_ROUTE_WAIT:-120}
minikube_timeout=${AIRY_MINIKUBE_TIMEOUT:-20m}
istio_timeout=${AIRY_ISTIO_TIMEOUT:-10m}
routes=${AIRY_ROUTES:-/proc/net/route}
export KUBECONFIG=${KUBECONFIG:-/root/.kube/config}
export MINIKUBE_HOME=$AIRY_MINIKUBE_HOME MINIKUBE_WANTUPDATENOTIFICATION=false MINIKUBE_IN_STYLE=false

if ! command -v minikube >/dev/null; then
  log "minikube is not installed (an offline-built box): nothing to start"
  exit 0
fi
# "NIC ADDRESS" of the first default route (in /proc/net/route's order) whose NIC has a global IPv4 address: the
# rule of apimachinery's ChooseHostInterface, by which Minikube's none driver picks the node address that kubeadm
# writes into the certificates, etcd and the kubeconfigs.
default_route_address() {
  local nic address
  while read -r nic; do
    address=$(ip -4 -o addr show dev "$nic" scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
    if [ -n "$address" ]; then
      echo "$nic $address"
      return 0
    fi
  done < <(awk 'NR > 1 && $2 == "00000000" { print $1 }' "$routes")
  return 1
}

tunnel() {
  # Applied, not only created: a token handed over again (rotated) replaces the one in the Secret; made from the
  # file, never from the command line.
  local secret
  secret=$(kubectl -n "$AIRY_NAMESPACE" create secret generic "$AIRY_NGROK_SECRET" --from-file="$AIRY_NGROK_TOKEN_KEY=$token_file" --dry-run=client -o yaml)
  # Each attempt reads the Secret anew (a pipe would be spent by the first).
  apply_secret() { kubectl apply -f - <<<"$secret" >/dev/null; }
  retry 3 apply_secret
  log "applying $AIRY_TUNNEL_FILE"
  retry 3 kubectl apply -f "$deployments/$AIRY_TUNNEL_FILE"
}
if [ "${1:-}" = tunnel ]; then
  if [ ! -s "$token_file" ]; then
    log "no ngrok authtoken in $token_file: hand one over first (airy-bootstrap tunnel)"
    exit 2
  fi
  tunnel
  exit 0
fi

if ! minikube status >/dev/null 2>&1; then
  # The management NIC carries the default route (the box gives DHCP to the first NIC only); wait for it, so that
  # the none driver never meets a VM without one, and name its address to the kubelet and the certificates.
  node=""
  for ((waited = 0; waited < route_wait; waited += 2)); do
    node=$(default_route_address) && break
    sleep 2
  done
  if [ -z "$node" ]; then
    log "no default route with an IPv4 address after ${route_wait}s: Kubernetes needs the management NIC's (see networkctl status); the unit tries again"
    exit 1
  fi
  log "node address ${node#* } on ${node% *}, the NIC of the default route"
  timeout "$minikube_timeout" minikube start --driver=none --container-runtime=containerd \
    --kubernetes-version="$AIRY_KUBERNETES_VERSION" --apiserver-port="$AIRY_API_SERVER_PORT" \
    --apiserver-ips="${node#* }" --extra-config=kubelet.node-ip="${node#* }" \
    --extra-config=apiserver.service-node-port-range="$AIRY_NODE_PORT_RANGE" \
    --extra-config=kubelet.system-reserved="$AIRY_SYSTEM_RESERVED"
fi
# The vagrant user's kubectl: the same cluster, certificates inlined (root's files are not theirs to read).
home=$(getent passwd "$user" | cut -d: -f6 || true)
if [ -n "$home" ]; then
  install -d -m 0700 -o "$user" -g "$user" "$home/.kube"
  (umask 077 && kubectl config view --flatten --minify >"$home/.kube/config.tmp")
  chown "$user:$user" "$home/.kube/config.tmp"
  mv "$home/.kube/config.tmp" "$home/.kube/config"
fi
[ "${1:-}" = start ] && exit 0

# The database credentials: created once, with a random password, never stored in the box.
retry 5 kubectl apply -f "$deployments/namespace.yaml"
if ! kubectl -n "$AIRY_NAMESPACE" get secret "$AIRY_POSTGRES_SECRET" >/dev/null 2>&1; then
  kubectl -n "$AIRY_NAMESPACE" create secret generic "$AIRY_POSTGRES_SECRET" \
    --from-literal="$AIRY_POSTGRES_USER_KEY=$AIRY_POSTGRES_USER" \
    --from-literal="$AIRY_POSTGRES_PASSWORD_KEY=$(openssl rand -base64 24)"
fi

# Istio is installed when its ingress gateway is not ready, whatever else exists: a run killed half way through
# `istioctl install` leaves istio-system behind, and that must not count as installed. The gateway's name and
# namespace are the IstioOperator's.
operator="$deployments/istio-operator.yaml"
gateway=$(awk '/ingressGateways:/ { g = 1 } g && $1 == "-" && $2 == "name:" { print $3; exit }' "$operator")
gateway_ns=$(awk '/ingressGateways:/ { g = 1 } g && $1 == "namespace:" { print $2; exit }' "$operator")
if kubectl -n "${gateway_ns:?no gateway namespace in $operator}" rollout status deployment/"${gateway:?no ingress gateway in $operator}" --timeout=10s >/dev/null 2>&1; then
  log "Istio: $gateway is ready"
else
  log "Istio: installing ($gateway is not ready)"
  istioctl install -y --readiness-timeout="$istio_timeout" -f "$operator"
fi

# kustomization.yaml lists the components in dependency order; each tier is rolled out before the next starts,
# and a file's Jobs (the topics) run again at every boot and complete before the apps that need them start.
sed -n 's/^  - \(.*\.yaml\)$/\1/p' "$deployments/kustomization.yaml" | while read -r file; do
  retry 3 "$lifecycle" before-apply "$file"
  log "applying $file"
  retry 5 kubectl apply -f "$deployments/$file"
  "$lifecycle" after-apply "$file"
done

# The in-cluster tunnel runs only with the user's ngrok authtoken.
if [ -s "$token_file" ]; then tunnel; fi
log "Airy Core manifests applied"
