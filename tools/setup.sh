#!/usr/bin/env bash
# Installs whatever is missing of Scion's system dependencies (Debian packages).
# Uses sudo only when not running as root.
#   tools/setup.sh          the default build's
#   tools/setup.sh --mpi    and Open MPI's, for `make mpi`
set -euo pipefail
packages=(libopenblas-dev libhdf5-dev pkg-config dataset-fashion-mnist libstb-dev zlib1g-dev)
if [ "${1:-}" = --mpi ]; then packages+=(libopenmpi-dev openmpi-bin); fi
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
