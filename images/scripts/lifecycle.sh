#!/usr/bin/env bash
# The platform's start and stop order, so Kafka never has to recover from an unclean stop. Installed as
# /usr/local/bin/airy-lifecycle. The tiers come from the box's facts (AIRY_TIERS, start order: data stores, Kafka,
# the Schema Registry, the apps):
#   airy-lifecycle stop              scale every tier down in reverse order, each gone before the next
#                                    (bootstrap's Vagrantfile runs it before every halt)
#   airy-lifecycle before-apply FILE delete the finished Jobs of FILE, so that applying it runs them again
#   airy-lifecycle after-apply FILE  wait for the rollout of the workloads of FILE that a later tier needs, and
#                                    for its Jobs to complete (the topics, before any app reads them)
#                                    (provisioning.sh runs both around applying each file at boot)
# The Jobs come from AIRY_JOBS (file:component items separated by commas).
set -euo pipefail
facts=${AIRY_FACTS:-/opt/airy/airy.env}
set -a
# shellcheck source=/dev/null
. "$facts"
set +a
: "${AIRY_NAMESPACE:?} ${AIRY_TIERS:?} ${AIRY_JOBS?}"
export KUBECONFIG=${KUBECONFIG:-/root/.kube/config}
stop_timeout=${AIRY_STOP_TIMEOUT:-180s}
start_timeout=${AIRY_START_TIMEOUT:-10m}
log() { printf '[airy] %s\n' "$*"; }
# One tier per line, in start order; a tier is file:kind/name:component items separated by commas.
tiers() { tr ';' '\n' <<<"$AIRY_TIERS"; }
# The components of FILE's Jobs, one per line.
jobs_of() {
  local item
  tr ',' '\n' <<<"$AIRY_JOBS" | while IFS= read -r item; do
    if [ -n "$item" ] && [ "${item%%:*}" = "$1" ]; then echo "${item#*:}"; fi
  done
}

case "${1:-}" in
  stop)
    if ! kubectl get namespace "$AIRY_NAMESPACE" >/dev/null 2>&1; then
      log "stop: no platform is running"
      exit 0
    fi
    tiers | tac | while IFS= read -r tier; do
      workloads=()
      components=()
      IFS=',' read -ra items <<<"$tier"
      for item in "${items[@]}"; do
        IFS=':' read -r _file workload component <<<"$item"
        workloads+=("$workload")
        components+=("$component")
      done
      log "stop: scaling down ${workloads[*]}"
      # An optional workload that is not deployed (the tunnel's agent) is no reason to stop the order.
      kubectl -n "$AIRY_NAMESPACE" scale --replicas=0 "${workloads[@]}" >/dev/null 2>&1 || true
      selector="app.kubernetes.io/name in ($(IFS=,; echo "${components[*]}"))"
      kubectl -n "$AIRY_NAMESPACE" wait --for=delete pod -l "$selector" --timeout="$stop_timeout" >/dev/null 2>&1 ||
        log "stop: ${workloads[*]} still stopping after $stop_timeout; going on"
    done
    log "stop: the platform is down, tier by tier"
    ;;
  before-apply)
    file=${2:?usage: airy-lifecycle before-apply FILE}
    # A Job's spec is immutable and a finished Job does not run again: delete it, so the apply makes it anew.
    jobs_of "$file" | while IFS= read -r component; do
      kubectl -n "$AIRY_NAMESPACE" delete job -l "app.kubernetes.io/name=$component" --ignore-not-found --wait=true >/dev/null
    done
    ;;
  after-apply)
    file=${2:?usage: airy-lifecycle after-apply FILE}
    jobs_of "$file" | while IFS= read -r component; do
      log "start: waiting for the $component job to complete"
      kubectl -n "$AIRY_NAMESPACE" wait --for=condition=complete job -l "app.kubernetes.io/name=$component" --timeout="$start_timeout" >/dev/null ||
        log "start: the $component job has not completed after $start_timeout; going on"
    done
    last=$(tiers | tail -n 1)
    tiers | while IFS= read -r tier; do
      # The apps are the last tier: nothing waits on them here (bootstrap's readiness does).
      [ "$tier" = "$last" ] && continue
      IFS=',' read -ra items <<<"$tier"
      for item in "${items[@]}"; do
        IFS=':' read -r from workload _component <<<"$item"
        [ "$from" = "$file" ] || continue
        log "start: waiting for $workload"
        kubectl -n "$AIRY_NAMESPACE" rollout status "$workload" --timeout="$start_timeout" >/dev/null ||
          log "start: $workload not rolled out after $start_timeout; going on"
      done
    done
    ;;
  *)
    echo "usage: airy-lifecycle stop | before-apply FILE | after-apply FILE" >&2
    exit 2
    ;;
esac
