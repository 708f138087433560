#!/usr/bin/env bash
# The background updaters off, in the build and in the box, before anything is installed:
# - The build waits for cloud-init's first boot to finish (it may run apt itself), then stops apt-daily's timers
#   and services (each waits for a run in progress to end: the `stop` job), so no apt of theirs holds the lock
#   while base.sh installs; every apt call also waits for the lock (DPkg::Lock::Timeout) rather than failing.
# - In the box they stay off: an upgrade at a user's first boot could restart containerd during kubeadm's init, or
#   bring a containerd 2.x whose config differs from the one minikube edits (container-runtime.sh also holds
#   containerd and runc). unattended-upgrades is disabled, snapd (which refreshes snaps on its own and is unused
#   here) masked. Units that do not exist (the offline base image has none of them) are skipped.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${AIRY_PAYLOAD:-/tmp/airy-payload}/scripts/lib.sh"
if command -v cloud-init >/dev/null; then
  # `status --wait` waits for every stage: one the image masks (the offline base image masks the config and final
  # stages) never runs, and the wait would never end. Bounded too, so a stage that hangs fails no build for good.
  if [ "$(systemctl is-enabled cloud-final.service 2>/dev/null || true)" = masked ]; then
    log "updates: cloud-init's final stage is masked in this image: not waiting for it"
  else
    # 0 done, 2 done with recoverable errors (the box goes on; its own scripts check what they need).
    status=0
    timeout "${AIRY_CLOUD_INIT_WAIT:-1200}" cloud-init status --wait >/dev/null || status=$?
    [ "$status" -le 2 ] || log "updates: cloud-init status --wait exited $status (124: still running after ${AIRY_CLOUD_INIT_WAIT:-1200}s); going on"
  fi
fi
has_unit() { systemctl list-unit-files "$1" 2>/dev/null | grep -q "^$1"; }
for unit in apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service unattended-upgrades.service; do
  if has_unit "$unit"; then
    systemctl disable --now "$unit" >/dev/null 2>&1 || systemctl stop "$unit" || true
    log "updates: $unit off"
  fi
done
for unit in snapd.service snapd.socket snapd.seeded.service; do
  if has_unit "$unit"; then
    systemctl mask --now "$unit" >/dev/null 2>&1 || true
    log "updates: $unit masked"
  fi
done
# apt's own switch, which apt-daily and unattended-upgrades read, should either be started by hand.
install -d -m 0755 "${AIRY_ROOT:-}/etc/apt/apt.conf.d"
cat >"${AIRY_ROOT:-}/etc/apt/apt.conf.d/99-airy-no-background-updates" <<'APT'
// Written by the Airy Core box build: no periodic update or upgrade; the box is rebuilt instead.
APT::Periodic::Enable "0";
APT::Periodic::Update-Package-Lists "0";
APT::Periodic::Unattended-Upgrade "0";
// Wait for another apt's lock instead of failing.
DPkg::Lock::Timeout "600";
APT
log "updates: background updaters off"
