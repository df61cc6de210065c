#!/usr/bin/env bash
# Installs crio-sigpoc from this checkout on a fresh Ubuntu 24.04 or Debian 12 VM:
# gets a Node.js >= 20.17 if the machine has none (the distributions ship 18), then builds the
# tool and links `crio-sigpoc` onto the PATH. Run as root (sudo). --dry-run prints the plan only.
set -euo pipefail

MIN_MAJOR=20
MIN_MINOR=17
NODE_PACKAGE="node@24"   # the npm registry's `node` package ships the Node 24 binary

dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1
here=$(cd "$(dirname "$0")/.." && pwd)

run() {
  printf '+ %s\n' "$*"
  [ "$dry_run" = 1 ] && return 0
  local started=$SECONDS
  "$@"
  printf '  (%s s)\n' "$(( SECONDS - started ))"
}

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local v major minor
  v=$(node -p 'process.versions.node' 2>/dev/null) || return 1
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  [ "$major" -gt "$MIN_MAJOR" ] || { [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -ge "$MIN_MINOR" ]; }
}

if [ "$dry_run" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh installs packages and links a command: run it with sudo (or --dry-run to see the plan)" >&2
  exit 2
fi

if node_ok; then
  echo "Node.js $(node -p 'process.versions.node') is recent enough"
else
  echo "Node.js >= ${MIN_MAJOR}.${MIN_MINOR} is missing (found: $(node --version 2>/dev/null || echo none)); installing ${NODE_PACKAGE}"
  if ! command -v npm >/dev/null 2>&1; then
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
  fi
  run npm install --global "${NODE_PACKAGE}"
  hash -r
fi

run npm --prefix "$here" ci --no-audit --no-fund
run npm --prefix "$here" run build
run npm install --global "$here"
if [ "$dry_run" = 0 ]; then
  echo "installed: $(command -v crio-sigpoc)"
  echo "next: sudo crio-sigpoc setup        (on a machine without the package repositories: sudo crio-sigpoc setup --from source)"
fi
