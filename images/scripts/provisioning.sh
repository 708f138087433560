#!/usr/bin/env bash
# Starts Minikube and applies the Airy Core manifests in dependency order. Runs at boot (airy-core.service) and is
# safe to re-run: every step checks before it acts, and `kubectl apply` is idempotent.
set -euo pipefail
deployments=${AIRY_DEPLOYMENTS:-/opt/airy/deployments}
user=${AIRY_USER:-vagrant}
# The box's facts (namespace, Secret, node ports), written by airy-box build from @airy/manifests.
facts=${AIRY_FACTS:-/opt/airy/airy.env}
set -a
# shellcheck source=/dev/null
. "$facts"
set +a
: "${AIRY_NAMESPACE:?} ${AIRY_POSTGRES_SECRET:?} ${AIRY_POSTGRES_USER:?} ${AIRY_NODE_PORT_RANGE:?}"
: "${AIRY_POSTGRES_USER_KEY:?} ${AIRY_POSTGRES_PASSWORD_KEY:?}"
log() { printf '[airy] %s\n' "$*"; }
as_user() { sudo -u "$user" -H "$@"; }

if ! command -v minikube >/dev/null; then
  log "minikube is not installed (an offline-built box): nothing to start"
  exit 0
fi
if ! as_user minikube status >/dev/null 2>&1; then
  as_user minikube start --driver=docker --extra-config=apiserver.service-node-port-range="$AIRY_NODE_PORT_RANGE"
fi

# The database credentials: created once, with a random password, never stored in the box.
if ! as_user kubectl get namespace "$AIRY_NAMESPACE" >/dev/null 2>&1; then
  as_user kubectl apply -f "$deployments/namespace.yaml"
fi
if ! as_user kubectl -n "$AIRY_NAMESPACE" get secret "$AIRY_POSTGRES_SECRET" >/dev/null 2>&1; then
  as_user kubectl -n "$AIRY_NAMESPACE" create secret generic "$AIRY_POSTGRES_SECRET" \
    --from-literal="$AIRY_POSTGRES_USER_KEY=$AIRY_POSTGRES_USER" \
    --from-literal="$AIRY_POSTGRES_PASSWORD_KEY=$(openssl rand -base64 24)"
fi

if ! as_user kubectl get namespace istio-system >/dev/null 2>&1; then
  as_user istioctl install -y -f "$deployments/istio-operator.yaml"
fi

# kustomization.yaml lists the components in dependency order.
sed -n 's/^  - \(.*\.yaml\)$/\1/p' "$deployments/kustomization.yaml" | while read -r file; do
  log "applying $file"
  as_user kubectl apply -f "$deployments/$file"
done
log "Airy Core manifests applied"
