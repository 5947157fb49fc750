#!/usr/bin/env bash
# Failover benchmark: on a three-host lab, PostgreSQL with one standby fails over after its primary's host dies
# (agent kill -9, database killed, link cut), N times, while a client inserts through a third host's address: RTO and RPO
# min/median/max; then the replication lag of a dataset with one standby under a steady 1 MiB/s and 10 MiB/s write load.
# Usage: scripts/bench-failover.sh [failovers=5] [seconds of lag sampling per load=30]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-failover.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
run_test_main convergence-agent dev.flocker.agent.FailoverBenchmark "$@"
