#!/usr/bin/env bash
# Base system: packages every later step needs, and no interactive apt.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
export DEBIAN_FRONTEND=noninteractive
if skipping_downloads; then
  log "base: offline build, no packages installed"
  exit 0
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates curl conntrack socat ethtool jq openssl
log "base: packages installed"
