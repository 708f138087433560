#!/usr/bin/env bash
# istioctl at the pinned version, checked against its published SHA-256.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
if skipping_downloads; then
  log "istio: skipped (offline build)"
  exit 0
fi
: "${ISTIO_VERSION:?}" "${AIRY_ARCH:?}"
tmp=$(mktemp -d)
tarball="istio-${ISTIO_VERSION}-linux-${AIRY_ARCH}.tar.gz"
url="https://github.com/istio/istio/releases/download/${ISTIO_VERSION}/${tarball}"
download_verified "$url" "$tmp/$tarball" "$url.sha256"
tar -xzf "$tmp/$tarball" -C "$tmp"
install -m 0755 "$tmp/istio-${ISTIO_VERSION}/bin/istioctl" /usr/local/bin/istioctl
rm -rf "$tmp"
log "istio: istioctl ${ISTIO_VERSION}"
