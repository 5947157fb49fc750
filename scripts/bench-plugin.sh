#!/usr/bin/env bash
# Docker plugin benchmark: `docker run -v vol:/data` on a host without the volume (the plugin's Mount moves it there),
# first move and later moves, against a local run and by-hand zfs send|ssh recv floors measured in the same run.
# Usage: scripts/bench-plugin.sh [moves=5] [sizes in MiB=64,1024]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-plugin.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
run_test_main convergence-agent dev.flocker.agent.PluginMountBenchmark "$@"
