#!/usr/bin/env bash
# Fills the box's image store so that the first `vagrant up` needs no registry: Kubernetes is started once (which
# pulls what Kubernetes itself runs), then every image of /opt/airy/images.txt is pulled into containerd, and the
# build fails if the store then lacks any of them. The list is `boxImages()` of @airy/manifests: every image any
# pod of the platform, its optional tunnel, Istio and Kubernetes run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /tmp/airy-payload/scripts/lib.sh
if skipping_downloads; then
  log "images: skipped (offline build)"
  exit 0
fi
AIRY_FACTS="${AIRY_PAYLOAD:?}/airy.env" /usr/local/bin/provisioning.sh start
while read -r image; do
  [ -n "$image" ] || continue
  log "images: pulling $image"
  crictl pull "$image" >/dev/null
done </opt/airy/images.txt
held=$(crictl images -o json | jq -r '.images[].repoTags[]')
missing=$(grep -vxF -f <(printf '%s\n' "$held") /opt/airy/images.txt || true)
if [ -n "$missing" ]; then
  log "images: the store lacks: $(echo "$missing" | tr '\n' ' ')"
  exit 1
fi
minikube stop
log "images: $(grep -c . /opt/airy/images.txt) images in the store, none missing"
