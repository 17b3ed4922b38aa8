#!/usr/bin/env bash
# Runs the background worker (procrastinate: mail, holds, public figures; docs/deploy.md) beside a
# command, and stops it when the command ends: `make run` and `make serve` start the portal this way.
# A worker that stops by itself (it does when the database restarts) is started again, as the
# systemd unit of production does (Restart=always, docs/deploy.md).
#
#   scripts/with-worker.sh COMMAND [ARG…]
set -euo pipefail
cd "$(dirname "$0")/.."
(
  trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' TERM INT
  while true; do
    # Below the web server's priority, as in production (Nice=10 in docs/deploy.md's unit).
    nice -n 10 .venv/bin/python manage.py procrastinate worker >&2 &
    pid=$!
    wait "$pid" || true
    echo "with-worker: the background worker stopped; starting it again in 2 s" >&2
    sleep 2
  done
) &
keeper=$!
trap 'kill "$keeper" 2>/dev/null || true; wait "$keeper" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
"$@"
