#!/usr/bin/env bash
# Makes the box small: apt caches and logs gone, free space zeroed so the disk compresses.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /tmp/airy-payload/scripts/lib.sh
apt-get clean 2>/dev/null || true
rm -rf /var/lib/apt/lists/* /tmp/airy-payload
find /var/log -type f -exec truncate -s 0 {} +
# Zero the free space; dd stops with "no space left", which is the point.
dd if=/dev/zero of=/EMPTY bs=1M status=none 2>/dev/null || true
rm -f /EMPTY
sync
if command -v fstrim >/dev/null; then fstrim -av || true; fi
log "cleanup: free space zeroed"
