#!/usr/bin/env bash
# Minikube and kubectl at the pinned versions, each checked against its published SHA-256.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
if skipping_downloads; then
  log "kubernetes: skipped (offline build)"
  exit 0
fi
: "${MINIKUBE_VERSION:?}" "${KUBERNETES_VERSION:?}" "${AIRY_ARCH:?}"
tmp=$(mktemp -d)
mk="https://github.com/kubernetes/minikube/releases/download/${MINIKUBE_VERSION}/minikube-linux-${AIRY_ARCH}"
download_verified "$mk" "$tmp/minikube" "$mk.sha256"
kc="https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/${AIRY_ARCH}/kubectl"
download_verified "$kc" "$tmp/kubectl" "$kc.sha256"
install -m 0755 "$tmp/minikube" /usr/local/bin/minikube
install -m 0755 "$tmp/kubectl" /usr/local/bin/kubectl
rm -rf "$tmp"
log "kubernetes: minikube ${MINIKUBE_VERSION}, kubectl ${KUBERNETES_VERSION}"
