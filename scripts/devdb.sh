#!/usr/bin/env bash
# The project-local PostgreSQL + PostGIS cluster used by `make run` and `make test`.
#
#   scripts/devdb.sh start   start it (initialising it the first time); print its DATABASE_URL
#   scripts/devdb.sh stop    stop it
#   scripts/devdb.sh url     print its DATABASE_URL
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

cluster_port() {
  sed -n 's/^port = \([0-9]*\)$/\1/p' "$(cluster_dir)/postgresql.conf" 2>/dev/null | tail -1
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
  dir=$(cluster_dir)
  if [ -f "$dir/PG_VERSION" ] && as_owner "$pgbin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    echo "Stopped the local database ($dir)."
  else
    echo "The local database is not running."
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  dir) cluster_dir ;;
  *) echo "usage: $0 start|stop|url|dir" >&2; exit 2 ;;
esac
