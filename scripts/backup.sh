#!/usr/bin/env bash
# Back up or restore the database named by DATABASE_URL (the local cluster's unless it is set).
#
#   scripts/backup.sh backup [DIR]     write DIR/ksbb-YYYYmmdd-HHMMSS.dump (pg_dump custom format); print its path
#   scripts/backup.sh restore FILE     restore FILE into the database, replacing what is there
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
url=${DATABASE_URL:-$("$here/scripts/devdb.sh" start)}
url=${url/#postgis:/postgresql:}  # libpq does not know Django's scheme name
pgbin=${KSBB_PG_BIN:-/usr/lib/postgresql/15/bin}

case "${1:-}" in
  backup)
    dir=${2:-${BACKUP_DIR:-$here/backups}}
    mkdir -p "$dir"
    file="$dir/ksbb-$(date -u +%Y%m%d-%H%M%S).dump"
    "$pgbin/pg_dump" --format=custom --no-owner --dbname="$url" --file="$file.partial"
    mv "$file.partial" "$file"  # never leave a half-written backup under the final name
    echo "$file"
    ;;
  restore)
    file=${2:?usage: $0 restore FILE}
    [ -f "$file" ] || { echo "No such backup: $file" >&2; exit 1; }
    "$pgbin/pg_restore" --list "$file" >/dev/null || { echo "$file is not a pg_dump custom-format backup." >&2; exit 1; }
    "$pgbin/pg_restore" --clean --if-exists --no-owner --single-transaction --exit-on-error \
      --dbname="$url" "$file"
    echo "Restored $file."
    ;;
  *) echo "usage: $0 backup [DIR] | restore FILE" >&2; exit 2 ;;
esac
