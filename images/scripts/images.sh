#!/usr/bin/env bash
# Fills the box so that the first boot needs no registry and no download, without ever starting Kubernetes here:
# Minikube caches Kubernetes' binaries (`minikube start --download-only`), every image of images.txt is pulled
# into containerd (with retries, a registry's rate limit waited out longer, through the builder's registry mirror if
# one is given), and the build fails if the store then lacks any of them. The list is `boxImages()` of @airy/manifests: every image any pod of the
# platform, its optional tunnel, Istio and Kubernetes run. The first `minikube start` happens at the box's first
# boot, so kubeadm's certificates name the address the VM really has (see images/README.md).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
if skipping_downloads; then
  log "images: skipped (offline build)"
  exit 0
fi
# The builder's Docker Hub credential, if given: kept in a shell variable of this script only (pull_image reads it),
# out of the environment every later command inherits.
registry_creds=${AIRY_REGISTRY_CREDENTIALS:-}
unset AIRY_REGISTRY_CREDENTIALS
[ -z "$registry_creds" ] || log "images: Docker Hub's images are pulled with the builder's credential (the box does not keep it)"
load_facts "${AIRY_FACTS:-${AIRY_PAYLOAD:?}/airy.env}"
: "${AIRY_MINIKUBE_HOME:?} ${AIRY_KUBERNETES_VERSION:?}"
list=${AIRY_IMAGES:-/opt/airy/images.txt}
export MINIKUBE_HOME=$AIRY_MINIKUBE_HOME MINIKUBE_WANTUPDATENOTIFICATION=false MINIKUBE_IN_STYLE=false
retry 3 minikube start --download-only --driver=none --container-runtime=containerd --kubernetes-version="$AIRY_KUBERNETES_VERSION"
while read -r image; do
  [ -n "$image" ] || continue
  log "images: pulling $image"
  pull_image "$image"
done <"$list"
held=$(crictl images -o json | jq -r '.images[].repoTags[]')
missing=$(grep -vxF -f <(printf '%s\n' "$held") "$list" || true)
if [ -n "$missing" ]; then
  log "images: the store lacks: $(echo "$missing" | tr '\n' ' ')"
  exit 1
fi
# The builder's mirror served the build; the box does not keep it (users' machines may not reach it).
rm -f "${AIRY_ROOT:-}/etc/containerd/certs.d/docker.io/hosts.toml"
log "images: $(grep -c . "$list") images in the store, none missing; Kubernetes ${AIRY_KUBERNETES_VERSION} cached in $MINIKUBE_HOME"
