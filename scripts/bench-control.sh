#!/usr/bin/env bash
# Control-service benchmark: 10,000 datasets, 100 agents, 200 reads/s plus conditional writes.
# Usage: scripts/bench-control.sh [datasets=10000] [agents=100] [seconds=20]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
mvn_build -q -DskipTests -pl control-service -am install
cp=$(mktemp)
mvn_build -q -pl control-service dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
m=$FLOCKER_ROOT/control-service/target
"$JAVA_HOME/bin/java" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$m/test-classes:$m/classes:$(cat "$cp")" dev.flocker.control.bench.ControlServiceBenchmark "$@"
rm -f "$cp"
