#!/usr/bin/env bash
# Install what `make run` / `make test` need and is missing: Debian packages, the virtualenv, the
# region registry (the npm package idn-area-data) and, for the tests, axe-core. Safe to run again: each step checks before it acts.
#
#   scripts/bootstrap.sh          what `make run` needs
#   scripts/bootstrap.sh --test   also Chromium (browser tests), redis-server (the shared-cache test) and
#                                 nginx (deploy/nginx/'s configuration is tested)
#   scripts/bootstrap.sh --bench  also Chromium (make bench opens the map as a throttled phone)
#   scripts/bootstrap.sh --load   also redis-server and nginx (make loadtest serves behind them)
#   scripts/bootstrap.sh --drill  also redis-server and nginx (make drill runs its own of each)
# Each runs its own nginx on a free port. Debian's nginx package also starts the system's nginx on port
# 80 when it is installed; the project never uses it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

packages=(postgresql-15 postgresql-15-postgis-3 gettext)
[ "${1:-}" = "--test" ] && packages+=(chromium redis-server nginx)
[ "${1:-}" = "--bench" ] && packages+=(chromium)
[ "${1:-}" = "--load" ] && packages+=(redis-server nginx)
[ "${1:-}" = "--drill" ] && packages+=(redis-server nginx)
command -v npm >/dev/null || packages+=(npm)
# Debian's python3 makes virtualenvs only with python3-venv (ensurepip) installed.
python=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$python" ] || ! "$python" -c "import ensurepip, venv" 2>/dev/null; then
  packages+=(python3 python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "These Debian packages are missing: ${missing[*]}" >&2
    echo "Install them as root:  apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The virtualenv, rebuilt when the declared or locked dependencies change.
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
  || echo "Note: the project is tested on Python 3.11; $("$python" --version) may differ." >&2
stamp=.venv/.installed
if [ ! -x .venv/bin/python ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  echo "Installing the Python dependencies into .venv"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  # This machine's pip config names local wheel folders that may be absent: hush only that warning.
  .venv/bin/pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]' \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  touch "$stamp"
fi

# Official region codes and names (Kemendagri), from the npm registry, checked against the lock's digest;
# for the tests, the accessibility checker too.
scripts/fetch-npm.sh idn-area-data
if [ "${1:-}" = "--test" ]; then scripts/fetch-npm.sh axe-core; fi
