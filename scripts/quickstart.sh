#!/usr/bin/env bash
# The main job on a fresh machine: prepares the host, builds, brings up a 2-host local cluster lab, starts the
# control service on its first host and a convergence agent on each host, then deploys PostgreSQL with flocker-deploy,
# writes rows, moves it to the other host while a client keeps writing through its original address, reads every row
# back there and prints the outage the client saw. FLOCKER_LAB_NAME picks the lab (default: lab).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/quickstart.sh"
t0=$SECONDS
"$FLOCKER_ROOT/scripts/setup-host.sh"
say "building"
mvn_build -q -DskipTests package
name=${FLOCKER_LAB_NAME:-lab}
flab() { local cmd=$1; shift; "$FLOCKER_ROOT/bin/flocker-lab" "$cmd" --name "$name" "$@"; }
flab up --nodes 2 --images busybox,postgres
lab=/var/lib/flocker-lab/$name
ip=$(flab status | awk '$1 == "n1" {print $2}')
ip2=$(flab status | awk '$1 == "n2" {print $2}')
# TLS is always on: a cluster CA for this lab, the control service's certificate for n1's address, one per node,
# the Docker plugin's, and an API user's (user.crt, where flocker-deploy looks by default with -c).
certs=$lab/certs
flocker_ca() { "$FLOCKER_ROOT/bin/flocker-ca" "$@" >/dev/null; }
if [ ! -s "$certs/control-service.crt" ]; then
  say "creating the cluster's certificates in $certs (bin/flocker-ca)"
  mkdir -p "$certs"
  [ -s "$certs/cluster.crt" ] || flocker_ca initialize -o "$certs" "quickstart-$name"
  flocker_ca create-control-certificate -i "$certs" -o "$certs" "$ip"
  flocker_ca create-api-certificate -i "$certs" -o "$certs" user
fi
for i in 1 2; do
  d=$lab/n$i/certs
  if [ ! -s "$d/node.crt" ]; then
    mkdir -p "$d"; cp "$certs/cluster.crt" "$d/"
    flocker_ca create-node-certificate -i "$certs" -o "$d"
    flocker_ca create-plugin-certificate -i "$certs" -o "$d"
  fi
done
api() { curl -sf --cacert "$certs/cluster.crt" --cert "$certs/user.crt" --key "$certs/user.key" "$@"; }
if ! api "https://$ip:4523/v1/version" >/dev/null; then
  say "starting the control service on n1 ($ip:4523)"
  # Inside n1's namespace, so it is removed with the lab; its data lives in the lab's directory.
  flab exec n1 -- setsid "$FLOCKER_ROOT/bin/flocker-control" \
      --data-path "$lab/control" --bind "$ip" --certificates-path "$certs" >"$lab/control.log" 2>&1 </dev/null &
  wait_for "control service" 90 api "https://$ip:4523/v1/version" \
    || die "the control service did not answer on $ip:4523 within 90 s; see $lab/control.log"
fi
for i in 1 2; do
  host_ip=$(flab status | awk -v h="n$i" '$1 == h {print $2}')
  pidfile=$lab/n$i/agent.pid
  pidfile_alive "$pidfile" && continue
  say "starting the agent on n$i ($host_ip)"
  cat > "$lab/n$i/agent.yml" <<YML
version: 1
control-service: {hostname: "$ip", port: 4524}
dataset: {backend: zfs, pool: "fl-$name-n$i", mount_root: "$lab/n$i/flocker"}
node: {address: "$host_ip", state_path: "$lab/n$i/agent"}
docker: {host: "unix:///run/fl-$name-n$i/docker.sock", sandbox_image: "flocker/busybox:local"}
ssh: {identity: "$lab/id_ed25519", known_hosts: "$lab/known_hosts"}
plugin: {listen: "tcp://127.0.0.1:4525"}
tls: {ca: "$lab/n$i/certs/cluster.crt", node_cert: "$lab/n$i/certs/node.crt", node_key: "$lab/n$i/certs/node.key",
      plugin_cert: "$lab/n$i/certs/plugin.crt", plugin_key: "$lab/n$i/certs/plugin.key"}
YML
  flab exec "n$i" -- setsid "$FLOCKER_ROOT/bin/flocker-agent" \
      --config "$lab/n$i/agent.yml" --pid-file "$pidfile" >>"$lab/n$i/agent.log" 2>&1 </dev/null &
done
export -f api; export certs
wait_for "both agents" 90 bash -c "api https://$ip:4523/v1/state/nodes | grep -o '\"uuid\"' | wc -l | grep -qx 2" \
  || die "the agents did not both report within 90 s; see $lab/n1/agent.log and $lab/n2/agent.log"
n1=$(cat "$lab/n1/agent/node.uuid")

# ---- PostgreSQL with flocker-deploy: deploy on n1, write, move to n2 under a writing client, read back ----------
for f in deploy-n1 deploy-n2; do
  sed -e "s/N1_ADDRESS/$ip/" -e "s/N2_ADDRESS/$ip2/" "$FLOCKER_ROOT/examples/postgres/$f.yml" > "$lab/$f.yml"
done
app=$FLOCKER_ROOT/examples/postgres/app.yml
export PGPASSWORD=quickstart PGCONNECT_TIMEOUT=10
sql() { psql -h "$ip" -p 15432 -U postgres -At -v ON_ERROR_STOP=1 -c "$1"; }
say "deploying PostgreSQL on n1: bin/flocker-deploy -c $certs --wait $ip $lab/deploy-n1.yml examples/postgres/app.yml"
"$FLOCKER_ROOT/bin/flocker-deploy" -c "$certs" --wait --timeout 300 "$ip" "$lab/deploy-n1.yml" "$app" \
  || die "flocker-deploy did not converge; see $lab/n1/agent.log"
wait_for "PostgreSQL" 120 sql "select 1" || die "PostgreSQL does not answer on $ip:15432; see $lab/n1/agent.log"
sql "create table if not exists ledger (id bigint primary key, body text)" >/dev/null
first=$(( $(sql "select coalesce(max(id), 0) from ledger") + 1 ))
sql "insert into ledger select g, repeat('x', 500) from generate_series($first, $((first + 9999))) g" >/dev/null
say "wrote 10000 rows through $ip:15432; moving PostgreSQL to n2 while a client keeps inserting through $ip:15432"

# The writer inserts one row at a time through n1's address and records each acknowledged id with its time.
acked=$lab/acknowledged.txt; : > "$acked"; rm -f "$lab/stop-writer"
(
  id=$((first + 10000))
  while [ ! -e "$lab/stop-writer" ]; do
    if out=$(sql "insert into ledger values ($id, 'during the move')" 2>&1) || [[ $out == *duplicate\ key* ]]; then
      echo "$id $(date +%s%N)" >> "$acked"; id=$((id + 1))
    fi
  done
) &
writer=$!
wait_for "the writer" 30 sh -c "[ \$(wc -l < '$acked') -ge 20 ]" || die "the writer cannot insert through $ip:15432"
say "moving: bin/flocker-deploy -c $certs --wait $ip $lab/deploy-n2.yml examples/postgres/app.yml"
"$FLOCKER_ROOT/bin/flocker-deploy" -c "$certs" --wait --timeout 300 "$ip" "$lab/deploy-n2.yml" "$app" \
  || { touch "$lab/stop-writer"; die "the move did not converge; see $lab/n1/agent.log and $lab/n2/agent.log"; }
before=$(wc -l < "$acked")
wait_for "inserts on n2" 60 sh -c "[ \$(wc -l < '$acked') -ge $((before + 20)) ]" || true
touch "$lab/stop-writer"; wait "$writer" || true
n=$(wc -l < "$acked")
last=$(tail -1 "$acked" | cut -d' ' -f1)
gap=$(awk 'NR > 1 {g = ($2 - t) / 1e6; if (g > max) max = g} {t = $2} END {printf "%d", max}' "$acked")
stored=$(sql "select count(*) from ledger where id between $first and $last")
expected=$((last - first + 1))
[ "$stored" -eq "$expected" ] || die "only $stored of $expected acknowledged rows are in the database after the move"
# The host that reports ledger-db running (the old host may still list its stopped container for a moment).
runs_on=$(api "https://$ip:4523/v1/state/containers" | grep -oE '"node_uuid": *"[^"]*"|"running": *(true|false)' \
  | awk -F'"' '/node_uuid/ {node = $4} /running": *true/ {print node; exit}' || true)
[ "$runs_on" = "$(cat "$lab/n2/agent/node.uuid")" ] || die "ledger-db is not running on n2 after the move"
say "moved: ledger-db now runs on n2 ($ip2); all $expected rows (10000 before, $n written during the move) read back through $ip:15432"
say "outage the writing client saw (longest gap between acknowledged inserts): $gap ms; no insert was lost"

cat >&2 <<MSG

Ready in $((SECONDS - t0)) s: a 2-host lab (hosts n1, n2) with dockerd, sshd and a ZFS pool each,
the control service on n1 at https://$ip:4523 (log: $lab/control.log) and an agent on each host
(logs: $lab/n1/agent.log, $lab/n2/agent.log). PostgreSQL (ledger-db) runs on n2, reachable at
$ip:15432 or $ip2:15432 (password: quickstart): every host's proxy routes its port.
TLS is always on; the cluster's certificates are in $certs (user.crt is an API user's).
Move it back:  bin/flocker-deploy -c $certs --dry-run $ip $lab/deploy-n1.yml examples/postgres/app.yml
               bin/flocker-deploy -c $certs --wait $ip $lab/deploy-n1.yml examples/postgres/app.yml
               bin/flocker-deploy -c $certs status $ip
               PGPASSWORD=quickstart psql -h $ip -p 15432 -U postgres -c 'select count(*) from ledger'

Try the API:   c="--cacert $certs/cluster.crt --cert $certs/user.crt --key $certs/user.key"
               curl -s \$c https://$ip:4523/v1/state/nodes
               curl -s \$c -X POST https://$ip:4523/v1/configuration/datasets \\
                    -d '{"primary": "$n1", "metadata": {"name": "demo"}}'
               curl -s \$c https://$ip:4523/v1/state/datasets        (n1 holds it, mounted)
               then POST {"primary": "<n2's uuid>"} to /v1/configuration/datasets/<dataset_id> to move it
               curl -s \$c https://$ip:4523/v1/state/moves           (phase, bytes, rate while it moves)
Docker plugin: bin/flocker-lab exec --name $name n1 -- docker volume create -d flocker demo-vol
               bin/flocker-lab exec --name $name n2 -- docker run --rm -v demo-vol:/data flocker/busybox:local ls /data
Look around:   bin/flocker-lab status --name $name
               bin/flocker-lab exec --name $name n2 -- docker ps     (docker talks to n2's own dockerd)
               zfs list -r fl-$name-n2
Tear down:     bin/flocker-lab down --name $name
MSG
