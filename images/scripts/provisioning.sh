#!/usr/bin/env bash
# Starts Minikube and applies the Airy Core manifests in dependency order. Runs at boot (airy-core.service) and is
# safe to re-run: every step checks before it acts, and `kubectl apply` is idempotent.
set -euo pipefail
deployments=${AIRY_DEPLOYMENTS:-/opt/airy/deployments}
user=${AIRY_USER:-vagrant}
log() { printf '[airy] %s\n' "$*"; }
as_user() { sudo -u "$user" -H "$@"; }

if ! command -v minikube >/dev/null; then
  log "minikube is not installed (an offline-built box): nothing to start"
  exit 0
fi
if ! as_user minikube status >/dev/null 2>&1; then
  as_user minikube start --driver=docker --extra-config=apiserver.service-node-port-range=80-32767
fi

# The database credentials: created once, with a random password, never stored in the box.
if ! as_user kubectl get namespace airy >/dev/null 2>&1; then
  as_user kubectl apply -f "$deployments/namespace.yaml"
fi
if ! as_user kubectl -n airy get secret postgres-credentials >/dev/null 2>&1; then
  as_user kubectl -n airy create secret generic postgres-credentials \
    --from-literal=POSTGRES_USER=airy --from-literal="POSTGRES_PASSWORD=$(openssl rand -base64 24)"
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
