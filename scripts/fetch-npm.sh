#!/usr/bin/env bash
# Fetch a pinned npm package into .data/NAME/, refusing a tarball whose digest differs from the one in
# data/NAME.lock (which sets `version`, `integrity`, the npm registry's sha512, and `extract`, the
# package's paths to keep). Does nothing when that version is already there.
#
#   scripts/fetch-npm.sh idn-area-data   the region registry (make run, make test)
#   scripts/fetch-npm.sh axe-core        the accessibility checker the browser tests run (make test)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
name=${1:?usage: scripts/fetch-npm.sh NAME (data/NAME.lock)}
lock=data/$name.lock
[ -f "$lock" ] || { echo "No lock for $name: $lock is missing." >&2; exit 1; }
version='' integrity='' extract=''
# shellcheck source=/dev/null
. "$lock"
dest=.data/$name
[ -f "$dest/.version" ] && [ "$(cat "$dest/.version")" = "$version" ] && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Fetching $name@$version from the npm registry"
(cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
tarball="$tmp/$name-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "$name@$version does not match the digest in $lock; refusing it." >&2
  exit 1
fi
rm -rf "$dest" && mkdir -p "$dest"
# shellcheck disable=SC2086  # extract is a list of paths
tar -xzf "$tarball" -C "$dest" --strip-components=1 $extract
echo "$version" >"$dest/.version"
