#!/usr/bin/env bash
# Transfer benchmark: our SSH shipping vs OpenSSH and a local zfs send|recv pipe, on a 2-host lab.
# Usage: scripts/bench-transfer.sh [repeats=3] [full size in MiB=1024]
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/bench-transfer.sh"
"$FLOCKER_ROOT/scripts/setup-host.sh"
mvn_build -q -DskipTests -pl volume-drivers/zfs -am install
cp=$(mktemp)
mvn_build -q -pl volume-drivers/zfs dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
m=$FLOCKER_ROOT/volume-drivers/zfs/target
"$JAVA_HOME/bin/java" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dflocker.project.root="$FLOCKER_ROOT" \
  -cp "$m/test-classes:$m/classes:$(cat "$cp")" dev.flocker.volume.bench.TransferBenchmark "$@"
rm -f "$cp"
