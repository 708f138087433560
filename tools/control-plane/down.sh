#!/usr/bin/env bash
# Stops exactly what up.sh started in DIR (each program checked by its PID and start time).
#   bash tools/control-plane/down.sh DIR
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$repo/node_modules/.bin/tsx" ] || { echo "control-plane: the workspace is not installed: run npm ci first" >&2; exit 3; }
exec "$repo/node_modules/.bin/tsx" "$repo/tools/control-plane/down.ts" "$@"
