#!/usr/bin/env bash
# Move-outage benchmark: an app with a 1 GiB and a 4 GiB volume that keeps writing moves between two lab hosts;
# its outage as a polling client sees it, against the floor (docker stop + snapshot + last send|recv over an open
# ssh + docker start) measured in the same run; an idle dataset moved through the API against snapshot + send|recv
# over an open ssh + mount by hand; then the agent's loop time with 1,000 datasets on the host. With 'load', everything
# runs beside a steady CPU and disk load that the benchmark starts (a writing application on n1, a CPU-bound one on n2).
# The sixth argument creates that many small datasets on each host before the moves (hosts with many datasets; the lab's
# zfs-fuse stopped answering new mounts in 4 of 5 runs at 300 and 2 of 3 at 60, see docs/BENCHMARKS.md).
# Usage: scripts/bench-move.sh [moves=5] [sizes in MiB=1024,4096] [datasets for the loop=1000] [idle moves=5] [quiet|load] [beside=0]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-move.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
run_test_main convergence-agent dev.flocker.agent.MoveOutageBenchmark "$@"
