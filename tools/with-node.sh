#!/usr/bin/env bash
# Runs a command with a given major of Node.js first on PATH.
#   tools/with-node.sh 20 CMD...   exactly Node 20 (a test on the lowest major a package declares)
#   tools/with-node.sh 22+ CMD...  the machine's Node when it is 22 or newer, otherwise Node 22 (the README's commands)
# A Node it brings comes from the npm registry's `node` package (no other download), kept in $AIRY_NODE_CACHE.
set -euo pipefail
spec=${1:?usage: tools/with-node.sh MAJOR[+] COMMAND...}
shift
major=${spec%+}
case "$major" in ''|*[!0-9]*) echo "with-node: $spec is not a Node.js major version (e.g. 22, or 22+ for at least 22)" >&2; exit 2 ;; esac
[ $# -gt 0 ] || { echo "with-node: no command given (usage: tools/with-node.sh MAJOR[+] COMMAND...)" >&2; exit 2; }
if [ "$spec" != "$major" ] && command -v node >/dev/null 2>&1; then
  current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$current" -ge "$major" ]; then exec "$@"; fi
fi
prefix="${AIRY_NODE_CACHE:-/tmp/airy-node}/node$major"
bin="$prefix/node_modules/.bin"
if ! "$bin/node" --version >/dev/null 2>&1; then
  echo "with-node: bringing Node.js $major from the npm registry's node package into $prefix" >&2
  npm install --no-audit --no-fund --silent --prefix "$prefix" "node@$major" >&2
fi
version=$("$bin/node" --version)
case "$version" in "v$major."*) ;; *) echo "with-node: the node package gave $version, not Node.js $major" >&2; exit 1 ;; esac
echo "with-node: Node.js $version" >&2
# Named for children that must see the machine's own Node again (the fresh-clone test).
AIRY_WITH_NODE_BIN="$bin" PATH="$bin:$PATH" exec "$@"
