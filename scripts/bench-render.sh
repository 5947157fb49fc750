#!/usr/bin/env bash
# Dataset-list rendering benchmark: what one new version of the list costs the control service (the blocks kept between
# versions) against laying the whole list out again, at each size given.
# Usage: scripts/bench-render.sh [datasets...=10000 100000]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
run_test_main control-service dev.flocker.control.api.DatasetBlocksBenchmark "$@"
