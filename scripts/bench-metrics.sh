#!/usr/bin/env bash
# What the agent's metrics add to a convergence loop with N datasets (gauges, timer, counters; a scrape for scale).
# The control service's side: scripts/bench-control.sh 10000 100 20 4 both (the same run with metrics on and off).
# Usage: scripts/bench-metrics.sh [datasets=1000] [loops=300]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
run_test_main convergence-agent dev.flocker.agent.MetricsCostBenchmark "$@"
