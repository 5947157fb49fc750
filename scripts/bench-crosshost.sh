#!/usr/bin/env bash
# Cross-host routing benchmark: an application on lab host n2 reached at n2's address (direct) and at n1's (a host that
# does not run it; its kernel forwards to n2), bulk download, connection rate and wrk latency, in one run.
# Usage: scripts/bench-crosshost.sh [repeats=5] [seconds per rate run=5] [kernel|copies]  (copies: n1's proxy carries the cross path)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-crosshost.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; } \
    || die "cannot install wrk (apt-get install wrk)"
fi
run_test_main convergence-agent dev.flocker.agent.CrossHostBenchmark "$@"
