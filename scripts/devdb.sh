#!/usr/bin/env bash
# The project-local PostgreSQL + PostGIS cluster used by `make run` and `make test`.
#
#   scripts/devdb.sh start   start it (initialising it the first time); print its DATABASE_URL
#   scripts/devdb.sh stop    stop it (and its replica)
#   scripts/devdb.sh url     print its DATABASE_URL
#   scripts/devdb.sh replica start|stop|url
#                            a streaming replica of it (pg_basebackup -R), for the replica-routing test and to
#                            try REPLICA_DATABASE_URL: made the first time, started, waited for until it streams
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user. That user may be
# unable to enter this checkout (CI clones into folders it can't reach); then the cluster lives in the
# system's temp folder instead, under a name derived from the checkout's path.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pgbin=${KSBB_PG_BIN:-/usr/lib/postgresql/15/bin}
# One port per checkout, so a second clone (CI's) never collides with the first; the first free one
# from there is written into the cluster's configuration when it is made.
preferred_port=${KSBB_PG_PORT:-$((54000 + $(printf '%s' "$here" | cksum | cut -d' ' -f1) % 900))}
dbname=${KSBB_PG_DB:-ksbb}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cluster_dir() {
  local dir="$here/.data/pg"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$here/.data"
    if ! runuser -u postgres -- test -x "$here/.data"; then
      dir="${TMPDIR:-/tmp}/ksbb-pg-$(printf '%s' "$here" | cksum | cut -d' ' -f1)"
    fi
  fi
  echo "$dir"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p=$preferred_port
  while port_in_use "$p"; do p=$((p + 1)); done
  echo "$p"
}

# The port a cluster's configuration names last (a replica's copy of the primary's file ends with its own).
conf_port() {
  sed -n 's/^port = \([0-9]*\)$/\1/p' "$1/postgresql.conf" 2>/dev/null | tail -1
}

cluster_port() {
  conf_port "$(cluster_dir)"
}

url() {
  echo "postgis://$(whoami_db)@127.0.0.1:$(cluster_port)/${dbname}"
}

whoami_db() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

start() {
  local dir log
  dir=$(cluster_dir)
  log="$dir.log"
  if [ ! -f "$dir/PG_VERSION" ]; then
    local port
    port=$(free_port)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$pgbin/initdb" -D "$dir" -A trust -E UTF8 --locale=C.UTF-8 -U "$(whoami_db)" >/dev/null
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 120
CONF
  fi
  touch "$log"
  [ "$(id -u)" = 0 ] && chown postgres: "$log"
  if ! as_owner "$pgbin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$dir" -l "$log" -w -t 60 start >/dev/null \
      || { echo "PostgreSQL did not start; its log is $log" >&2; tail -20 "$log" >&2; exit 1; }
  fi
  local psql=(env PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -h 127.0.0.1 -p "$(cluster_port)" -U "$(whoami_db)" -v ON_ERROR_STOP=1 -qAt)
  # PostGIS in template1: every database made afterwards has it, test databases included.
  "${psql[@]}" -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  if [ -z "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE $dbname" >/dev/null
  fi
  url
}

stop() {
  local dir
  replica_stop quiet
  dir=$(cluster_dir)
  if [ -f "$dir/PG_VERSION" ] && as_owner "$pgbin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    echo "Stopped the local database ($dir)."
  else
    echo "The local database is not running."
  fi
}

# The replica: a copy of the whole cluster beside it, kept current by streaming replication. It is
# disposable: when it can no longer follow the primary (the primary was made anew, or recycled WAL the
# stopped replica still needed; no replication slot, so a forgotten replica never fills the disk) it
# is made again from a fresh base backup.
replica_dir() {
  echo "$(cluster_dir)-replica"
}

replica_url() {
  [ -f "$(replica_dir)/PG_VERSION" ] || { echo "There is no local replica: scripts/devdb.sh replica start" >&2; exit 1; }
  echo "postgis://$(whoami_db)@127.0.0.1:$(conf_port "$(replica_dir)")/${dbname}"
}

replica_running() {
  [ -f "$(replica_dir)/PG_VERSION" ] && as_owner "$pgbin/pg_ctl" -D "$(replica_dir)" status >/dev/null 2>&1
}

# `replica_stop quiet` says nothing when there is nothing to stop.
replica_stop() {
  if replica_running; then
    as_owner "$pgbin/pg_ctl" -D "$(replica_dir)" -m fast -w stop >/dev/null
    echo "Stopped the local replica ($(replica_dir))."
  elif [ "${1:-}" != quiet ]; then
    echo "The local replica is not running."
  fi
}

# What a standby needs from the primary, made true only where it is not (initdb's defaults already
# are): WAL for replicas, senders, and replication connections from loopback in pg_hba.conf.
allow_replication() {
  local dir=$1 psql=("${@:2}") restart=
  if [ "$("${psql[@]}" -d postgres -c "SHOW wal_level")" = minimal ]; then
    "${psql[@]}" -d postgres -c "ALTER SYSTEM SET wal_level = replica" >/dev/null
    restart=1
  fi
  if [ "$("${psql[@]}" -d postgres -c "SHOW max_wal_senders")" = 0 ]; then
    "${psql[@]}" -d postgres -c "ALTER SYSTEM SET max_wal_senders = 10" >/dev/null
    restart=1
  fi
  if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+(all|'"$(whoami_db)"')[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$dir/pg_hba.conf"; then
    echo "host    replication     all             127.0.0.1/32            trust" >>"$dir/pg_hba.conf"
    "${psql[@]}" -d postgres -c "SELECT pg_reload_conf()" >/dev/null
  fi
  if [ -n "$restart" ]; then
    as_owner "$pgbin/pg_ctl" -D "$dir" -l "$dir.log" -m fast -w -t 60 restart >/dev/null 9>&-
  fi
}

system_id() {
  as_owner "$pgbin/pg_controldata" -D "$1" 2>/dev/null | sed -n 's/^Database system identifier: *//p'
}

# A port is taken when anything is bound to it, not only a listener (a client's ephemeral port is
# enough to make the server's bind fail); without ss, a listener is all we can see.
port_taken() {
  if command -v ss >/dev/null; then
    [ -n "$(ss -Htan exclude time-wait "( sport = :$1 )")" ]
  else
    port_in_use "$1"
  fi
}

# The replica's port: the first free one after the primary's, written last in its configuration.
replica_set_port() {
  local rdir=$1 port
  port=$(($(cluster_port) + 1))
  while port_taken "$port"; do port=$((port + 1)); done
  as_owner sed -i '/^port = /d' "$rdir/postgresql.conf"
  echo "port = $port" | as_owner tee -a "$rdir/postgresql.conf" >/dev/null
}

make_replica() {
  local primary=$1 rdir=$2
  rm -rf "$rdir"
  mkdir -m 700 "$rdir"
  [ "$(id -u)" = 0 ] && chown postgres: "$rdir"
  as_owner "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$(conf_port "$primary")" -U "$(whoami_db)" \
    -D "$rdir" -R -X stream -c fast \
    || { echo "pg_basebackup of the local database failed" >&2; exit 1; }
  replica_set_port "$rdir"
}

# Waits (bounded) until the replica's WAL receiver streams from the primary; gives up at once when
# its log (from byte $1 on) says the primary no longer has the WAL it needs.
replica_streams() {
  local from=$1 log psql
  log="$(replica_dir).log"
  psql=(env PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -h 127.0.0.1 -p "$(conf_port "$(replica_dir)")" -U "$(whoami_db)" -d postgres -qAt)
  for _ in $(seq 60); do
    [ "$("${psql[@]}" -c "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ] && return 0
    tail -c "+$from" "$log" | grep -q "has already been removed" && return 1
    sleep 0.5
  done
  return 1
}

replica_start() {
  local primary rdir log attempt from
  start >/dev/null
  primary=$(cluster_dir)
  rdir=$(replica_dir)
  log="$rdir.log"
  # One maker at a time: test runs in parallel share this replica.
  exec 9>"$rdir.lock"
  flock -w 600 9 || { echo "Another process holds $rdir.lock" >&2; exit 1; }
  allow_replication "$primary" env PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -h 127.0.0.1 \
    -p "$(cluster_port)" -U "$(whoami_db)" -v ON_ERROR_STOP=1 -qAt
  touch "$log"
  [ "$(id -u)" = 0 ] && chown postgres: "$log"
  for attempt in 1 2 3; do
    from=$(($(stat -c %s "$log") + 1))
    if [ ! -f "$rdir/PG_VERSION" ] || [ "$(system_id "$rdir")" != "$(system_id "$primary")" ]; then
      replica_stop quiet >/dev/null
      make_replica "$primary" "$rdir"
    fi
    if ! replica_running; then
      port_taken "$(conf_port "$rdir")" && replica_set_port "$rdir"
      # 9>&-: the server must not inherit (and so hold for ever) the lock. A standby accepts
      # connections only once it has a snapshot of the primary's transactions; while the primary
      # runs a transaction with many savepoints (a test's, in a parallel test run) that waits for it
      # to end (measured: 68 s), hence the long timeout. `make test` starts the replica before any test.
      if ! as_owner "$pgbin/pg_ctl" -D "$rdir" -l "$log" -w -t 300 start >/dev/null 9>&-; then
        # Something took the port between the check and the bind: the next attempt picks another.
        tail -5 "$log" | grep -q "Address already in use" && { replica_set_port "$rdir"; continue; }
        echo "The replica did not start; its log is $log" >&2
        tail -20 "$log" >&2
        exit 1
      fi
    fi
    if replica_streams "$from"; then
      replica_url
      return
    fi
    echo "The replica does not follow the primary; making it again" >&2
    replica_stop quiet >/dev/null
    rm -rf "$rdir"
  done
  echo "The replica does not stream from the primary; its log is $log" >&2
  tail -20 "$log" >&2
  exit 1
}

replica() {
  case "${1:-}" in
    start) replica_start ;;
    stop) replica_stop ;;
    url) replica_url ;;
    *) echo "usage: $0 replica start|stop|url" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  dir) cluster_dir ;;
  replica) replica "${2:-}" ;;
  *) echo "usage: $0 start|stop|url|dir|replica start|stop|url" >&2; exit 2 ;;
esac
