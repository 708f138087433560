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

# pull_image IMAGE: `crictl pull`, retried. A hiccup: 5 s doubling, five attempts (as `retry`). A registry's rate
# limit (429, Docker Hub's `toomanyrequests`: anonymous pulls are 10 an hour per address) is waited out longer: the
# Retry-After the error names if it names one (containerd passes only the status and message on, so through
# crictl it rarely does), else 60 s doubling up to 16 min, eight attempts (about an hour, Docker Hub's window).
#
# The builder's Docker Hub credential (USER:TOKEN, in the shell variable registry_creds, never exported) goes with
# Docker Hub's images only, never to another registry; what crictl says is logged with it blanked out.
pull_image() {
  local image=$1 out wait hiccups=1 limits=1 delay=${AIRY_RETRY_DELAY:-5} limited=${AIRY_RATE_LIMIT_DELAY:-60} creds=()
  if [ -n "${registry_creds:-}" ] && [[ $image == docker.io/* ]]; then creds=(--creds "$registry_creds"); fi
  until out=$(crictl pull "${creds[@]}" "$image" 2>&1); do
    [ -z "${registry_creds:-}" ] || out=${out//"$registry_creds"/<credential>}
    [ -z "${registry_creds:-}" ] || out=${out//"${registry_creds#*:}"/<credential>}
    if grep -qiE '(^|[^0-9])429([^0-9]|$)|toomanyrequests|rate limit' <<<"$out"; then
      if [ "$limits" -ge 8 ]; then
        log "gave up on $image after $limits rate-limited attempts: give airy-box build --registry-mirror (images/README.md)"
        return 1
      fi
      wait=$(grep -oiE 'retry-after:? *[0-9]+' <<<"$out" | grep -oE '[0-9]+' | head -n 1 || true)
      [ -n "$wait" ] || { wait=$limited; limited=$((limited * 2 > 960 ? 960 : limited * 2)); }
      log "pulling $image: the registry's rate limit (429); again in ${wait}s (attempt $limits of 8)"
      limits=$((limits + 1))
    else
      if [ "$hiccups" -ge 5 ]; then
        log "gave up after $hiccups attempts: crictl pull $image: $(tail -n 1 <<<"$out")"
        return 1
      fi
      wait=$delay
      delay=$((delay * 2))
      log "attempt $hiccups of 5 failed: crictl pull $image; again in ${wait}s"
      hiccups=$((hiccups + 1))
    fi
    sleep "$wait"
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
