#!/usr/bin/env bash
# Runs a command with another major of Node.js first on PATH: tools/with-node.sh 22 npx tsx tools/test.ts
# The binary comes from the npm registry's `node` package (no other download), kept in $AIRY_NODE_CACHE.
set -euo pipefail
major=${1:?usage: tools/with-node.sh MAJOR COMMAND...}
shift
case "$major" in ''|*[!0-9]*) echo "with-node: $major is not a Node.js major version" >&2; exit 2 ;; esac
prefix="${AIRY_NODE_CACHE:-/tmp/airy-node}/node$major"
bin="$prefix/node_modules/.bin"
if ! "$bin/node" --version >/dev/null 2>&1; then
  npm install --no-audit --no-fund --silent --prefix "$prefix" "node@$major" >&2
fi
version=$("$bin/node" --version)
case "$version" in "v$major."*) ;; *) echo "with-node: the node package gave $version, not Node.js $major" >&2; exit 1 ;; esac
echo "with-node: Node.js $version" >&2
PATH="$bin:$PATH" exec "$@"
