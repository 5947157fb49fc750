#!/usr/bin/env bash
# Move-outage benchmark: an app with a 1 GiB and a 4 GiB volume that keeps writing moves between two lab hosts;
# its outage as a polling client sees it, against the floor (docker stop + snapshot + last send|recv over an open
# ssh + docker start) measured in the same run; then the agent's loop time with 1,000 datasets on the host.
# Usage: scripts/bench-move.sh [moves=5] [sizes in MiB=1024,4096] [datasets for the loop=1000]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-move.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
mvn_build -q -DskipTests -pl convergence-agent -am install
cp=$(mktemp)
mvn_build -q -pl convergence-agent dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
m=$FLOCKER_ROOT/convergence-agent/target
"$JAVA_HOME/bin/java" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dflocker.project.root="$FLOCKER_ROOT" \
  -cp "$m/test-classes:$m/classes:$(cat "$cp")" dev.flocker.agent.MoveOutageBenchmark "$@"
rm -f "$cp"
