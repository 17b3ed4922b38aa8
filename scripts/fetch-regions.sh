#!/usr/bin/env bash
# Fetch the npm package idn-area-data (ODbL; Kemendagri codes and names of every Indonesian region) into
# .data/idn-area-data/, verifying its integrity against data/idn-area-data.lock.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck source=/dev/null
. data/idn-area-data.lock
dest=.data/idn-area-data
[ -f "$dest/.version" ] && [ "$(cat "$dest/.version")" = "$version" ] && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Fetching idn-area-data@$version from the npm registry"
(cd "$tmp" && npm pack --silent "idn-area-data@$version" >/dev/null)
tarball="$tmp/idn-area-data-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "idn-area-data@$version does not match the digest in data/idn-area-data.lock; refusing it." >&2
  exit 1
fi
rm -rf "$dest" && mkdir -p "$dest"
tar -xzf "$tarball" -C "$dest" --strip-components=1 package/data package/LICENSE package/package.json
echo "$version" >"$dest/.version"
