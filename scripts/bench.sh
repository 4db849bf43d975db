#!/bin/sh
# flockguard's benchmark suite (scripts/bench/suite.ts): builds, then runs every figure in private
# network namespaces. Arguments go to the suite, e.g. --quick, --sizes 1000,100000, --no-packet.
# Results: bench-results/latest.json, latest.md and a dated JSON; the table on stdout.
# BUILD_DIR (default .build/bench-suite) keeps this build apart from dist/ and other builds.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench: run as root (network namespaces, nft)" >&2; exit 1; }
BUILD_DIR="${BUILD_DIR:-.build/bench-suite}"
# tsc still emits when some other file has a type error; the suite itself must have been built.
npx tsc -p tsconfig.json --outDir "$BUILD_DIR" --tsBuildInfoFile "$BUILD_DIR/.tsbuildinfo" >/dev/null || true
[ -f "$BUILD_DIR/scripts/bench/suite.js" ] || { echo "bench: build failed" >&2; exit 1; }
exec node "$BUILD_DIR/scripts/bench/suite.js" "$@"
