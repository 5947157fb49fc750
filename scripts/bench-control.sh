#!/usr/bin/env bash
# Control-service benchmark: N datasets, M simulated agents, 200 reads/s plus conditional writes, on one or more
# replicas, then every replica restarted from its disk.
# Usage: scripts/bench-control.sh [datasets=10000] [agents=100] [seconds=20] [writes/s=4] [metrics=on|off|both|off,on] [replicas=1] [reads/s=200]
# The issue's runs: scripts/bench-control.sh 100000 1000 60 20 on 1   and   ... 100000 1000 60 20 on 3
# Environment: FLOCKER_BENCH_KEEP=1 keeps the replicas' logs; FLOCKER_BENCH_SERVICE_OPTS adds replicas' JVM options;
# FLOCKER_AOT=off starts them without the start-up cache; FLOCKER_BENCH_CACHE=<dir> keeps that cache across runs and
# FLOCKER_BENCH_TRAIN=1 has the run's first replica record it under the load (ControlServiceBenchmark's comments).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
run_test_main control-service dev.flocker.control.bench.ControlServiceBenchmark "$@"
