#!/usr/bin/env bash
# Brings up a flockguard lab and holds it until Ctrl-C. Options are lab-cli's:
#   sudo scripts/lab/lab.sh [--mode nftables|iptables] [--ipv6] [--policy Cluster|Local]
# Then e.g.: sudo ip netns exec fglab-<id>-node nft list ruleset
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/scripts/lab/lab-cli.js ] || npm run --silent build
exec node dist/scripts/lab/lab-cli.js "$@"
