#!/usr/bin/env bash
# Container runtime for Minikube's docker driver: Docker from the distribution, started now and at boot.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /tmp/airy-payload/scripts/lib.sh
export DEBIAN_FRONTEND=noninteractive
if skipping_downloads; then
  log "container runtime: skipped (offline build)"
  exit 0
fi
apt-get install -y -qq --no-install-recommends docker.io
systemctl enable --now docker
usermod -aG docker vagrant
log "container runtime: $(docker --version)"
