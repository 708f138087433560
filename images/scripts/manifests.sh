#!/usr/bin/env bash
# The rendered manifests, the content manifest, provisioning.sh and the unit that runs it at boot.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /tmp/airy-payload/scripts/lib.sh
payload=${AIRY_PAYLOAD:?}
# shellcheck source=/dev/null
. "$payload/airy.env"
install -d -m 0755 /opt/airy
rm -rf /opt/airy/deployments
cp -r "$payload/deployments" /opt/airy/deployments
install -m 0644 "$payload/box.json" /opt/airy/box.json
install -m 0644 "$payload/images.txt" /opt/airy/images.txt
install -m 0644 "$payload/airy.env" /opt/airy/airy.env
install -m 0755 "$payload/scripts/provisioning.sh" /usr/local/bin/provisioning.sh
install -m 0755 "$payload/scripts/lifecycle.sh" "${AIRY_LIFECYCLE:?}"
install -m 0644 "$payload/files/airy-core.service" /etc/systemd/system/airy-core.service
systemctl daemon-reload
systemctl enable airy-core.service
log "manifests: $(find /opt/airy/deployments -name '*.yaml' | wc -l) files in /opt/airy/deployments; airy-core.service enabled"
