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
say "setup took ${setup} s; build and tests took $((SECONDS - t0 - setup)) s"
