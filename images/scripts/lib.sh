#!/usr/bin/env bash
# Helpers every provisioning script sources: logging, the skip switch, verified downloads.
set -euo pipefail

log() { printf '[airy] %s\n' "$*"; }

# True when the build runs offline (airy-box build --skip-downloads).
skipping_downloads() { [ "${AIRY_SKIP_DOWNLOADS:-false}" = "true" ]; }

# download URL DEST SHA256_URL: fetch a file and check it against the SHA-256 its release publishes.
download_verified() {
  local url=$1 dest=$2 sum_url=$3 expected
  curl -fsSL --retry 5 -o "$dest" "$url"
  expected=$(curl -fsSL --retry 5 "$sum_url" | awk '{print $1}' | head -n 1)
  if [ "${#expected}" -ne 64 ]; then
    log "no SHA-256 published at $sum_url"
    exit 1
  fi
  echo "$expected  $dest" | sha256sum --check --quiet || { log "checksum mismatch for $url"; exit 1; }
}
