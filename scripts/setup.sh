#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine, run by scripts/test.sh and scripts/demo.sh:
# the system packages flockguard's tests and lab need, the npm dependencies, and the build.
# Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v nft >/dev/null || need_pkgs+=(nftables)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v iptables-nft >/dev/null || need_pkgs+=(iptables)
command -v unshare >/dev/null || need_pkgs+=(util-linux)
command -v python3 >/dev/null || need_pkgs+=(python3)
# The native socket-option helper (native/) is built with node-gyp: a C compiler and make.
{ command -v cc >/dev/null && command -v make >/dev/null; } || need_pkgs+=(build-essential)
# The agent tells systemd it is ready through systemd-notify (Type=notify).
command -v systemd-notify >/dev/null || need_pkgs+=(systemd)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "flockguard setup: missing ${need_pkgs[*]}; run as root (sudo) so they can be installed" >&2
    exit 1
  fi
  echo "flockguard setup: installing ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "flockguard setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "flockguard setup: build" >&2
npm run --silent build
