#!/usr/bin/env bash
# PostgreSQL move benchmark: the longest gap between acknowledged inserts while PostgreSQL moves between two lab hosts,
# ours (through the control service, the client at one address) against the floor by hand (stop, last increment over an
# open ssh, start of a pre-created container on the host network), in one run. With 'load', beside a steady CPU and
# disk load that the benchmark starts. Usage: scripts/bench-postgres.sh [moves=3] [quiet|load]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-postgres.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
run_test_main convergence-agent dev.flocker.agent.PostgresMoveBenchmark "$@"
