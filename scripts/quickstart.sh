#!/usr/bin/env bash
# The main job on a fresh machine: prepares the host, builds, brings up a 2-host local cluster lab and
# starts the control service on its first host. (Agents, and so real moves, arrive with their issue.)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/quickstart.sh"
t0=$SECONDS
"$FLOCKER_ROOT/scripts/setup-host.sh"
say "building"
mvn_build -q -DskipTests package
"$FLOCKER_ROOT/bin/flocker-lab" up --name lab --nodes 2 --images busybox,postgres
lab=/var/lib/flocker-lab/lab
ip=$("$FLOCKER_ROOT/bin/flocker-lab" status --name lab | awk '$1 == "n1" {print $2}')
if ! curl -sf "http://$ip:4523/v1/version" >/dev/null; then
  say "starting the control service on n1 ($ip:4523)"
  # Inside n1's namespace, so it is removed with the lab; its data lives in the lab's directory.
  "$FLOCKER_ROOT/bin/flocker-lab" exec --name lab n1 -- setsid "$FLOCKER_ROOT/bin/flocker-control" \
      --data-path "$lab/control" --bind "$ip" >"$lab/control.log" 2>&1 </dev/null &
  wait_for "control service" 90 curl -sf "http://$ip:4523/v1/version" \
    || die "the control service did not answer on $ip:4523 within 90 s; see $lab/control.log"
fi
cat >&2 <<MSG

Ready in $((SECONDS - t0)) s: a 2-host lab (hosts n1, n2) with dockerd, sshd and a ZFS pool each,
and the control service on n1 at http://$ip:4523 (log: $lab/control.log).
Try the API:   curl -s http://$ip:4523/v1/version
               curl -s -X POST http://$ip:4523/v1/configuration/datasets \\
                    -d '{"primary": "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "metadata": {"name": "demo"}}'
               curl -s http://$ip:4523/v1/configuration/datasets
Look around:   bin/flocker-lab status
               bin/flocker-lab exec n1 -- docker ps          (docker talks to n1's own dockerd)
               bin/flocker-lab exec n2 -- ip -4 addr show eth0
               zfs list -r fl-lab-n1
Tear down:     bin/flocker-lab down
MSG
