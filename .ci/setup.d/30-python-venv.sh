#!/usr/bin/env bash
# The README's quick start makes a venv with `python3 -m venv`: Debian's Python
# needs its python3-venv package for that (ensurepip). Skipped when venv works.
set -euo pipefail
if python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
python3 -c "import ensurepip, venv"
