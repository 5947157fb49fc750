#!/usr/bin/env bash
# The main job on a fresh machine: prepares the host, builds, brings up a 2-host local cluster lab and
# starts the control service on its first host and a convergence agent on each host.
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
for i in 1 2; do
  host_ip=$("$FLOCKER_ROOT/bin/flocker-lab" status --name lab | awk -v h="n$i" '$1 == h {print $2}')
  pidfile=$lab/n$i/agent.pid
  pidfile_alive "$pidfile" && continue
  say "starting the agent on n$i ($host_ip)"
  cat > "$lab/n$i/agent.yml" <<YML
version: 1
control-service: {hostname: "$ip", port: 4524}
dataset: {backend: zfs, pool: "fl-lab-n$i", mount_root: "$lab/n$i/flocker"}
node: {address: "$host_ip", state_path: "$lab/n$i/agent"}
docker: {host: "unix:///run/fl-lab-n$i/docker.sock"}
ssh: {identity: "$lab/id_ed25519", known_hosts: "$lab/known_hosts"}
YML
  "$FLOCKER_ROOT/bin/flocker-lab" exec --name lab "n$i" -- setsid "$FLOCKER_ROOT/bin/flocker-agent" \
      --config "$lab/n$i/agent.yml" --pid-file "$pidfile" >>"$lab/n$i/agent.log" 2>&1 </dev/null &
done
wait_for "both agents" 90 sh -c "curl -sf http://$ip:4523/v1/state/nodes | grep -o '\"uuid\"' | wc -l | grep -qx 2" \
  || die "the agents did not both report within 90 s; see $lab/n1/agent.log and $lab/n2/agent.log"
n1=$(cat "$lab/n1/agent/node.uuid")

cat >&2 <<MSG

Ready in $((SECONDS - t0)) s: a 2-host lab (hosts n1, n2) with dockerd, sshd and a ZFS pool each,
the control service on n1 at http://$ip:4523 (log: $lab/control.log) and an agent on each host
(logs: $lab/n1/agent.log, $lab/n2/agent.log).
Try the API:   curl -s http://$ip:4523/v1/state/nodes
               curl -s -X POST http://$ip:4523/v1/configuration/datasets \\
                    -d '{"primary": "$n1", "metadata": {"name": "demo"}}'
               curl -s http://$ip:4523/v1/state/datasets        (n1 holds it, mounted)
               then POST {"primary": "<n2's uuid>"} to /v1/configuration/datasets/<dataset_id> to move it
               curl -s http://$ip:4523/v1/state/moves           (phase, bytes, rate while it moves)
Look around:   bin/flocker-lab status
               bin/flocker-lab exec n1 -- docker ps          (docker talks to n1's own dockerd)
               bin/flocker-lab exec n2 -- ip -4 addr show eth0
               zfs list -r fl-lab-n1
Tear down:     bin/flocker-lab down
MSG
