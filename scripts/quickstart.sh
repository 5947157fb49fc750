#!/usr/bin/env bash
# The main job on a fresh machine: prepares the host, builds, and brings up a 2-host local cluster lab.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/quickstart.sh"
t0=$SECONDS
"$FLOCKER_ROOT/scripts/setup-host.sh"
say "building"
mvn_build -q -DskipTests package
"$FLOCKER_ROOT/bin/flocker-lab" up --name lab --nodes 2 --images busybox,postgres
cat >&2 <<MSG

Ready in $((SECONDS - t0)) s: a 2-host lab (hosts n1, n2) with dockerd, sshd and a ZFS pool each.
Look around:   bin/flocker-lab status
               bin/flocker-lab exec n1 -- docker ps          (docker talks to n1's own dockerd)
               bin/flocker-lab exec n2 -- ip -4 addr show eth0
               zfs list -r fl-lab-n1
Tear down:     bin/flocker-lab down
MSG
