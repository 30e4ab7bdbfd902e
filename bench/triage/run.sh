#!/bin/sh
# Triage bench: generates a realistic bundle of SIZE_MB megabytes (default 100; 1024 for the 1 GB run),
# then times `vigie triage` and ripgrep with the same indicator literals over the same files.
#   sh bench/triage/run.sh [SIZE_MB] [--keep]
set -eu
SIZE="${1:-100}"
shift || true
cd "$(dirname "$0")/../.."
if ! command -v rg >/dev/null 2>&1; then
  echo "ripgrep missing: installing the Debian package" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y ripgrep || { $SUDO apt-get update && $SUDO apt-get install -y ripgrep; }
fi
npx tsc -p tsconfig.json --outDir bench/out/build || { echo "bench FAILED: the build failed" >&2; exit 1; }
node bench/out/build/bench/triage/run.js --size-mb "$SIZE" "$@"
