#!/usr/bin/env bash
# The rendered manifests, the content manifest, provisioning.sh and the unit that runs it at boot; the volumes'
# bind mount; the root filesystem grown to the disk at every boot.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
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
# provisioning.sh's log and retry.
install -m 0644 "$payload/scripts/lib.sh" /opt/airy/lib.sh
install -m 0755 "$payload/scripts/lifecycle.sh" "${AIRY_LIFECYCLE:?}"
install -m 0644 "$payload/files/airy-core.service" /etc/systemd/system/airy-core.service
install -m 0755 "$payload/scripts/growroot.sh" /usr/local/bin/airy-growroot
install -m 0644 "$payload/files/airy-growroot.service" /etc/systemd/system/airy-growroot.service

# PersistentVolumes on the disk: Minikube's storage-provisioner writes them under a folder in /tmp (fixed in its
# code), which systemd-tmpfiles empties at every boot (`D /tmp`, on Ubuntu and Debian). A bind mount of a folder
# under /var/lib puts them on the disk; it is made after tmpfiles' clean-up and before the kubelet and the platform.
: "${AIRY_VOLUMES_DIR:?} ${AIRY_PROVISIONER_DIR:?}"
install -d -m 0755 "$AIRY_VOLUMES_DIR"
volumes_unit=$(systemd-escape --path --suffix=mount "$AIRY_PROVISIONER_DIR")
cat >"/etc/systemd/system/$volumes_unit" <<UNIT
[Unit]
Description=Airy Core: PersistentVolumes on the disk, where Minikube's storage-provisioner writes them
DefaultDependencies=no
RequiresMountsFor=$AIRY_VOLUMES_DIR
After=local-fs.target systemd-tmpfiles-setup.service
Before=kubelet.service airy-core.service umount.target
Conflicts=umount.target

[Mount]
What=$AIRY_VOLUMES_DIR
Where=$AIRY_PROVISIONER_DIR
Type=none
Options=bind

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable airy-core.service airy-growroot.service "$volumes_unit"
log "manifests: $(find /opt/airy/deployments -name '*.yaml' | wc -l) files in /opt/airy/deployments; airy-core.service and $volumes_unit enabled"
