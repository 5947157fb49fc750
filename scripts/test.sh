#!/usr/bin/env bash
# The whole test suite from nothing: prepares the host, then builds and runs every test tier
# (unit, integration with real zfs-fuse/dockerd/sshd, end-to-end on the lab).
# Extra arguments go to Maven, e.g. -Dtest.excludedGroups=integration,e2e for unit tests only.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/test.sh"
t0=$SECONDS
"$FLOCKER_ROOT/scripts/setup-host.sh"
setup=$((SECONDS - t0))
say "building and running every test"
mvn_build verify "$@"
tests=$((SECONDS - t0 - setup))
# The suite must stay under 25 minutes on 2 cores: the slowest test classes, where a look at its time starts.
say "slowest test classes (seconds, from the surefire reports)"
for report in "$FLOCKER_ROOT"/*/target/surefire-reports/TEST-*.xml "$FLOCKER_ROOT"/*/*/target/surefire-reports/TEST-*.xml; do
  [ -f "$report" ] || continue
  sed -n 's/.*<testsuite [^>]*name="\([^"]*\)"[^>]*time="\([0-9.]*\)".*/\2 \1/p; s/.*<testsuite [^>]*time="\([0-9.]*\)"[^>]*name="\([^"]*\)".*/\1 \2/p' "$report" | head -1
done | sort -rn | head -10 | while read -r secs name; do info "$(printf '%7.1f  %s' "$secs" "$name")"; done || true
if [ $# -eq 0 ]; then
  # The quickstart is tested as a new user runs it, on a lab of its own, removed afterwards whatever happens.
  say "running the quickstart (lab tquick)"
  trap '"$FLOCKER_ROOT/bin/flocker-lab" down --name tquick >/dev/null 2>&1 || true' EXIT
  FLOCKER_LAB_NAME=tquick "$FLOCKER_ROOT/scripts/quickstart.sh"
fi
say "setup took ${setup} s; build and tests took ${tests} s; quickstart took $((SECONDS - t0 - setup - tests)) s"
