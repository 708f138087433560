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

# retry ATTEMPTS COMMAND...: runs COMMAND until it succeeds, waiting 5, 10, 20… seconds between attempts
# (a registry's hiccup or its anonymous pull limit must not fail an hour's build).
retry() {
  local attempts=$1 delay=${AIRY_RETRY_DELAY:-5} n=1
  shift
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then
      log "gave up after $n attempts: $*"
      return 1
    fi
    log "attempt $n of $attempts failed: $*; again in ${delay}s"
    sleep "$delay"
    n=$((n + 1))
    delay=$((delay * 2))
  done
}

# Loads the box's facts (airy.env, written by airy-box build from @airy/manifests) into the environment.
load_facts() {
  set -a
  # shellcheck source=/dev/null
  . "${1:?facts file}"
  set +a
}

# write_registry_mirror CERTS_DIR URL: containerd's hosts.toml that sends Docker Hub pulls to URL first, Docker
# Hub itself after it. URL was checked by airy-box build (plain http(s), no quotes); checked again here.
write_registry_mirror() {
  local dir=$1 url=$2
  [[ $url =~ ^https?://[A-Za-z0-9.:/_~-]+$ ]] || { log "not a registry mirror URL: $url"; return 2; }
  install -d -m 0755 "$dir/docker.io"
  printf 'server = "https://registry-1.docker.io"\n\n[host."%s"]\n  capabilities = ["pull", "resolve"]\n' "$url" >"$dir/docker.io/hosts.toml"
}
