#!/usr/bin/env bash
# Installs the Debian packages xgrad needs, only those missing. Idempotent.
# Usage: scripts/install-deps.sh [extra-package ...]   (run as root, or with sudo available)
set -euo pipefail
pkgs=(build-essential cmake libxtensor-dev libxtensor-blas-dev libopenblas-dev liblapack-dev
      doctest-dev libbenchmark-dev libopenmpi-dev openmpi-bin "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
