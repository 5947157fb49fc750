#!/bin/sh
# Entrypoint of the locally built PostgreSQL image: initialises PGDATA when empty, then runs the server
# as the postgres user. Docker's stop signal (SIGTERM) becomes PostgreSQL's fast shutdown (SIGINT: open
# transactions roll back, the server stops at once) instead of its smart shutdown, which waits for every client
# to disconnect and so would hold a move's handoff until Docker's stop timeout kills it.
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ "${1:-postgres}" = "postgres" ]; then
  mkdir -p "$PGDATA" /run/postgresql
  chown postgres:postgres "$PGDATA" /run/postgresql
  chmod 0700 "$PGDATA"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" > "$pwfile"
    chown postgres "$pwfile"
    setpriv --reuid=postgres --regid=postgres --init-groups \
      initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  fi
  shift || true
  set +e
  setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@" &
  pid=$!
  trap 'kill -INT "$pid" 2>/dev/null' TERM INT
  status=0
  while kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
    status=$?
  done
  exit "$status"
fi
exec "$@"
