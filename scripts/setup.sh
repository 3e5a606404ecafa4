#!/usr/bin/env bash
# Installs everything seller needs on a fresh Debian 12 machine (run as root; idempotent):
# Debian packages (toolchain, yaml-cpp, Boost, OpenMPI, GoogleTest, nlohmann-json, CLI11, zlib,
# zstd, clang + libFuzzer runtime, Slurm + munge for the local-cluster test), a project-local
# venv with the pinned torch wheel (LibTorch) and the test oracles, then configures and builds
# seller into build/.
# Environment: SELLER_SKIP_BUILD=1 installs only; SELLER_BUILD_DIR overrides build/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

apt_packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  python3 python3-venv python3-pip
  clang libclang-rt-14-dev
  libyaml-cpp-dev libboost-dev libboost-system-dev libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  zlib1g-dev libzstd-dev libsentencepiece-dev
  gnuplot-nox  # seller eval: PNG plots (eval/plot)
  slurm-wlm munge  # tests/integration/test_slurm_cluster.cpp: a local one-node Slurm cluster
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Project-local venv: LibTorch comes from the torch wheel (pinned in scripts/requirements.txt).
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.seller-requirements
want=$(cat scripts/requirements.txt scripts/requirements-test.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r scripts/requirements.txt -r scripts/requirements-test.txt
  echo "$want" > "$stamp"
fi

if [ "${SELLER_SKIP_BUILD:-0}" != 1 ]; then
  "$root/scripts/build.sh"
fi
echo "setup: done"
