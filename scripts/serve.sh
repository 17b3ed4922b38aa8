#!/usr/bin/env bash
# `make serve`: the portal as production runs it: gunicorn (ksbb/gunicorn.conf.py) with DEBUG off,
# static files collected, hashed and compressed for whitenoise, every setting from the environment.
#
#   scripts/serve.sh         bootstrap, migrate, compile messages, collect static files, run gunicorn
#                            and the background worker
#   scripts/serve.sh --env   only apply the local-only values below, print the settings it would
#                            start with (secrets hidden), and exit
#
# A real deployment sets SECRET_KEY, ALLOWED_HOSTS and EMAIL_URL (README.md lists the rest). For a
# try on this machine, whatever is unset gets a local-only value, and the script says so:
# ALLOWED_HOSTS=127.0.0.1,localhost, EMAIL_URL=consolemail://, SECURE_SSL_REDIRECT=0 (no TLS proxy
# in front) and a SECRET_KEY generated once into .data/secret_key (mode 600). Unless DATABASE_URL
# is set, the project-local PostgreSQL cluster (scripts/devdb.sh) is the database.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
env_only=false
case "${1:-}" in
  "") ;;
  --env) env_only=true ;;
  *) echo "usage: $0 [--env]" >&2; exit 2 ;;
esac

say() { echo "serve: $*" >&2; }

local_only() {  # NAME VALUE: use VALUE for NAME when the environment leaves it unset or empty
  if [ -z "${!1:-}" ]; then
    export "$1=$2"
    say "$1 is not set; using the local-only value $2"
  fi
}

$env_only || scripts/bootstrap.sh

case "${DEBUG:-}" in
  [1tTyY]* | [oO][nN]) say "DEBUG=$DEBUG ignored: this serves with DEBUG off" ;;
esac
export DEBUG=0
local_only ALLOWED_HOSTS "127.0.0.1,localhost"
local_only EMAIL_URL "consolemail://"
local_only SECURE_SSL_REDIRECT 0
if [ -z "${SECRET_KEY:-}" ]; then
  key_file=.data/secret_key
  if [ ! -s "$key_file" ]; then
    mkdir -p .data
    (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$key_file.tmp" && mv "$key_file.tmp" "$key_file")
    say "SECRET_KEY is not set; generated a local-only one into $key_file"
  else
    say "SECRET_KEY is not set; using the local-only one in $key_file"
  fi
  chmod 600 "$key_file"
  SECRET_KEY=$(cat "$key_file")
  export SECRET_KEY
fi

if $env_only; then
  for name in DEBUG ALLOWED_HOSTS EMAIL_URL SECURE_SSL_REDIRECT DATABASE_URL; do
    if [ -n "${!name:-}" ]; then echo "$name=${!name}"; fi
  done
  echo "SECRET_KEY=(${#SECRET_KEY} characters)"
  exit 0
fi

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/devdb.sh start)
fi
export DATABASE_URL

py=.venv/bin/python
$py manage.py migrate --noinput -v0
$py manage.py compilemessages -v0 --ignore=.venv --ignore=.data
say "collecting static files (hashed, then gzip- and brotli-compressed: this takes a little while)"
$py manage.py collectstatic --noinput -v0
say "KSBB portal, DEBUG off: http://${GUNICORN_BIND:-127.0.0.1:${PORT:-8000}}/"
# The background worker beside gunicorn (production: a systemd service of its own).
exec scripts/with-worker.sh .venv/bin/gunicorn -c ksbb/gunicorn.conf.py
