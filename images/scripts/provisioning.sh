#!/usr/bin/env bash
# Starts Kubernetes (Minikube's `none` driver: on the VM itself, so the ingress gateway's NodePorts 80 and 443 are
# the VM's ports) and applies the Airy Core manifests in dependency order. Runs at boot (airy-core.service) and is
# safe to re-run: every step checks before it acts, and `kubectl apply` is idempotent.
#   provisioning.sh          start Kubernetes, create the Secrets, install Istio, apply the platform
#   provisioning.sh start    start Kubernetes only
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
log() { printf '[airy] %s\n' "$*"; }
export KUBECONFIG=${KUBECONFIG:-/root/.kube/config}
export MINIKUBE_HOME=$AIRY_MINIKUBE_HOME MINIKUBE_WANTUPDATENOTIFICATION=false MINIKUBE_IN_STYLE=false

if ! command -v minikube >/dev/null; then
  log "minikube is not installed (an offline-built box): nothing to start"
  exit 0
fi
if ! minikube status >/dev/null 2>&1; then
  minikube start --driver=none --container-runtime=containerd \
    --kubernetes-version="$AIRY_KUBERNETES_VERSION" --apiserver-port="$AIRY_API_SERVER_PORT" \
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
if ! kubectl get namespace "$AIRY_NAMESPACE" >/dev/null 2>&1; then
  kubectl apply -f "$deployments/namespace.yaml"
fi
if ! kubectl -n "$AIRY_NAMESPACE" get secret "$AIRY_POSTGRES_SECRET" >/dev/null 2>&1; then
  kubectl -n "$AIRY_NAMESPACE" create secret generic "$AIRY_POSTGRES_SECRET" \
    --from-literal="$AIRY_POSTGRES_USER_KEY=$AIRY_POSTGRES_USER" \
    --from-literal="$AIRY_POSTGRES_PASSWORD_KEY=$(openssl rand -base64 24)"
fi

if ! kubectl get namespace istio-system >/dev/null 2>&1; then
  istioctl install -y -f "$deployments/istio-operator.yaml"
fi

# kustomization.yaml lists the components in dependency order; each tier is rolled out before the next starts,
# and a file's Jobs (the topics) run again at every boot and complete before the apps that need them start.
sed -n 's/^  - \(.*\.yaml\)$/\1/p' "$deployments/kustomization.yaml" | while read -r file; do
  "$lifecycle" before-apply "$file"
  log "applying $file"
  kubectl apply -f "$deployments/$file"
  "$lifecycle" after-apply "$file"
done

# The in-cluster tunnel runs only with the user's ngrok authtoken: its Secret is made from the file (never from
# the command line), then the agent is applied.
if [ -s "$token_file" ]; then
  # Applied, not only created: a token handed over again (rotated) replaces the one in the Secret.
  kubectl -n "$AIRY_NAMESPACE" create secret generic "$AIRY_NGROK_SECRET" --from-file="$AIRY_NGROK_TOKEN_KEY=$token_file" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  log "applying $AIRY_TUNNEL_FILE"
  kubectl apply -f "$deployments/$AIRY_TUNNEL_FILE"
fi
log "Airy Core manifests applied"
