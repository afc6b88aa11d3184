#!/usr/bin/env bash
# Installs the Debian packages crdtsim needs to build and test.
#
# Idempotent: when every package is already present it does nothing and
# exits 0. Otherwise, as root, it runs `apt-get update` once and installs
# exactly the missing packages. Not root: prints the one command to run and
# exits 2, changing nothing.
set -euo pipefail

packages=(
  build-essential
  cmake
  ninja-build
  g++
  clang
  libclang-rt-14-dev
  clang-format
  libgtest-dev
  libgmock-dev
  librapidcheck-dev
  nlohmann-json3-dev
  libcli11-dev
  libboost-container-dev
  libbenchmark-dev
  libabsl-dev
  libxxhash-dev
  # The allocator of the simulation executables (CMakeLists.txt says why).
  libmimalloc-dev
  # The scenario-schema test checks docs/scenario.schema.json with an
  # independent, well-kept validator (draft 2020-12).
  python3
  python3-jsonschema
)

missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install-deps: missing packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 2
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
