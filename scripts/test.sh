#!/usr/bin/env bash
# The whole test suite: set-up, lint, then every test (unit and kernel). Kernel tests run in network
# namespaces the tests create and remove themselves; they need root (CAP_NET_ADMIN).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "flockguard test: lint" >&2
npm run --silent lint
echo "flockguard test: mocha" >&2
exec npx mocha "$@"
