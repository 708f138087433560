#!/usr/bin/env bash
# Starts a control plane of Kubernetes' own components on loopback in DIR and leaves it running (see README.md).
#   bash tools/control-plane/up.sh DIR [--nodes N] [--cpu CPUS] [--memory QUANTITY] [--system-reserved LIST]
# Prints DIR/kubeconfig's path. Stop it with down.sh DIR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$repo/node_modules/.bin/tsx" ] || { echo "control-plane: the workspace is not installed: run npm ci first" >&2; exit 3; }
exec "$repo/node_modules/.bin/tsx" "$repo/tools/control-plane/up.ts" "$@"
