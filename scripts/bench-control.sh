#!/usr/bin/env bash
# Control-service benchmark: 10,000 datasets, 100 agents, 200 reads/s plus conditional writes.
# Usage: scripts/bench-control.sh [datasets=10000] [agents=100] [seconds=20] [writes/s=4] [metrics=on|off|both|off,on]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
run_test_main control-service dev.flocker.control.bench.ControlServiceBenchmark "$@"
