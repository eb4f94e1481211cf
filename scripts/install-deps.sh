#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages Cell builds, tests and runs
# with (ARCHITECTURE.md §1). Idempotent; returns at once when all are installed.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config curl
	libjansson-dev libcmocka-dev
	libraft-dev libuv1-dev liblz4-dev libev-dev
	libcurl4-openssl-dev libmicrohttpd-dev
	etcd-server
	clang-format cppcheck
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
	SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
