#!/usr/bin/env bash
# The seed's entry point, for `curl … | bash` users: checks Node.js 20 or newer, then runs
# `npx @airy/bootstrap` with every argument given here. Everything else happens in Node.
set -euo pipefail

required=20
if ! command -v node >/dev/null 2>&1; then
  echo "bootstrap: Node.js ${required} or newer is needed: install it from nodejs.org or your package manager (e.g. apt-get install nodejs), then run this again" >&2
  exit 3
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt "$required" ]; then
  echo "bootstrap: Node.js $(node --version) is too old, ${required} or newer is needed: upgrade it (nodejs.org, nvm, or your package manager)" >&2
  exit 3
fi
exec npx --yes @airy/bootstrap "$@"
