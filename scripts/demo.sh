#!/usr/bin/env bash
# The flockguard demo: sets the machine up (packages, npm ci, build), builds the lab (a Kubernetes
# node in network namespaces with kube-proxy's rules), runs the flockguard agent in it, applies
# examples/prednat-nodeport.yaml and shows who reaches the Service and why. It changes nothing
# outside its own namespaces and removes them at the end, also on failure or Ctrl-C.
#   sudo scripts/demo.sh [--mode nftables|iptables]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "flockguard demo: needs root for network namespaces and nftables; run: sudo scripts/demo.sh" >&2
  exit 1
fi
if ! command -v node >/dev/null; then
  echo "flockguard demo: needs Node.js 20 or newer (e.g. apt-get install nodejs npm), then run it again" >&2
  exit 1
fi
bash scripts/setup.sh
exec node dist/scripts/demo/demo.js "$@"
