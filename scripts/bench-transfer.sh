#!/usr/bin/env bash
# Transfer benchmark: our SSH shipping vs OpenSSH and a local zfs send|recv pipe, on a 2-host lab.
# Usage: scripts/bench-transfer.sh [repeats=3] [full size in MiB=1024]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-transfer.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
run_test_main volume-drivers/zfs dev.flocker.volume.bench.TransferBenchmark "$@"
