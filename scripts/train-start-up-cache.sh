#!/usr/bin/env bash
# Trains bin/flocker-control's start-up cache (docs/OPERATIONS.md, "Start-up cache"; JDK 25 or newer): one start of a
# throwaway control service on loopback (certificates of its own, an empty data directory, ports of its own), stopped
# once it is ready; the JVM writes the cache as it exits, and later starts of the same jar on the same JDK use it.
# Run it after building or upgrading; it leaves nothing else behind. The cache goes to $FLOCKER_CACHE/aot.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
[ $# -eq 0 ] || die "train-start-up-cache.sh takes no arguments (the cache goes to \$FLOCKER_CACHE/aot, now $FLOCKER_CACHE/aot)"
use_java
[ "$(java_major "$JAVA_HOME")" -ge 25 ] || die "a start-up cache needs JDK 25 or newer; $JAVA_HOME is older"
work=$(mktemp -d /tmp/flocker-aot-training-XXXX)
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
ca() { "$FLOCKER_ROOT/bin/flocker-ca" "$@" >/dev/null; }
ca initialize -o "$work/certs" start-up-cache-training
ca create-control-certificate -i "$work/certs" -o "$work/certs" 127.0.0.1
for attempt in 1 2 3; do
  port=$((20000 + RANDOM % 40000))
  rm -rf "$work/data"
  FLOCKER_AOT=train "$FLOCKER_ROOT/bin/flocker-control" --data-path "$work/data" --bind 127.0.0.1 --port "$port" \
    --agent-port $((port + 1)) --cluster-port $((port + 2)) --metrics-port off --certificates-path "$work/certs" \
    >"$work/log" 2>&1 </dev/null &
  pid=$!
  end=$((SECONDS + 120))
  until grep -q "control service ready" "$work/log"; do
    kill -0 "$pid" 2>/dev/null || break
    [ $SECONDS -lt $end ] || { tail -20 "$work/log" >&2; die "the training control service was not ready within 120 s"; }
    sleep 0.2
  done
  if grep -q "control service ready" "$work/log"; then
    break
  fi
  wait "$pid" || true
  pid=""
  grep -qi "address already in use" "$work/log" || { tail -20 "$work/log" >&2; die "the training control service stopped"; }
done
[ -n "$pid" ] || die "no free ports for the training control service after 3 attempts"
kill -TERM "$pid"
wait "$pid" || true # 143: stopped by SIGTERM, as intended
pid=""
cache=$(sed -n 's/^AOTCache creation is complete: \([^ ]*\) .*/\1/p' "$work/log")
[ -n "$cache" ] && [ -s "$cache" ] || { tail -20 "$work/log" >&2; die "the JVM wrote no start-up cache"; }
say "trained bin/flocker-control's start-up cache: $cache ($(du -h "$cache" | cut -f1))"
