#!/bin/sh
# tests/compat/node/install.sh -- installs the pinned Node.js clients of
# tests/compat/node from its package-lock.json (npm ci) when node_modules is
# missing or older than the lockfile. Used by node/run and history/run.
# Exits non-zero (after one line on stderr) if it cannot.
cd "$(dirname "$0")" || exit 1
command -v node >/dev/null 2>&1 || { echo "node not found in PATH" >&2; exit 1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
   [ package.json -nt node_modules/.package-lock.json ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm not found in PATH (needed to install the clients)" >&2; exit 1; }
    echo "# installing Node.js clients with npm ci" >&2
    timeout 90 npm ci --no-audit --no-fund --ignore-scripts 1>&2 ||
        { echo "npm ci failed (is the npm registry reachable?)" >&2; exit 1; }
fi
exit 0
