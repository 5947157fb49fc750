#!/usr/bin/env bash
# Routing proxy benchmark: proxied vs direct on loopback in one run (bulk stream, connection rate, wrk against
# busybox httpd). Usage: scripts/bench-proxy.sh [repeats=3] [bulk MiB=2048] [seconds per rate run=5] [paths=direct,proxy,kernel]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-proxy.sh"
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; } \
    || die "cannot install wrk (apt-get install wrk)"
fi
run_test_main network-proxy dev.flocker.proxy.ProxyBenchmark "$@"
