#!/usr/bin/env bash
# Pre-pulls exactly the images of `airy-manifests images --profile local` into Minikube, so the first
# `vagrant up` needs no registry. Minikube is started for this and stopped again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /tmp/airy-payload/scripts/lib.sh
if skipping_downloads; then
  log "images: skipped (offline build)"
  exit 0
fi
: "${KUBERNETES_VERSION:?}"
# shellcheck source=/dev/null
. "${AIRY_PAYLOAD:?}/airy.env"
sudo -u vagrant -H minikube start --driver=docker --kubernetes-version="${KUBERNETES_VERSION}" \
  --extra-config=apiserver.service-node-port-range="${AIRY_NODE_PORT_RANGE:?}"
while read -r image; do
  [ -n "$image" ] || continue
  log "images: pulling $image"
  sudo -u vagrant -H minikube image pull "$image"
done </opt/airy/images.txt
sudo -u vagrant -H minikube stop
log "images: $(grep -c . /opt/airy/images.txt) images pre-pulled"
