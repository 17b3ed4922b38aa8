#!/usr/bin/env bash
# Runs the background worker (procrastinate: mail, holds, public figures; docs/deploy.md) beside a
# command, and stops it when the command ends: `make run` and `make serve` start the portal this way.
# In production the worker is a systemd service of its own (docs/deploy.md).
#
#   scripts/with-worker.sh COMMAND [ARG…]
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py procrastinate worker >&2 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
"$@"
