#!/usr/bin/env bash
# Refresh the vendored Swagger UI (served offline at /docs) from the npm registry.
#
#   make vendor-swagger-ui                          # re-vendor the pinned version (VERSION)
#   make vendor-swagger-ui SWAGGER_UI_VERSION=5.x.y # move the pin
#
# `npm pack` fetches the package tarball only (no install, so no install scripts run) and checks
# it against the registry's integrity hash. Only the files /docs serves and their licences are
# kept; SHA256SUMS records them (tests/unit/test_web_assets.py checks the files against it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/swagger-ui"
version="${1:-$(cat "$dest/VERSION")}"
files=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf "swagger-ui-dist-$version.tgz")
test "$(node -p "require('$tmp/package/package.json').version")" = "$version"

mkdir -p "$dest"
for f in "${files[@]}"; do cp "$tmp/package/$f" "$dest/$f"; done
echo "$version" > "$dest/VERSION"
(cd "$dest" && sha256sum "${files[@]}" > SHA256SUMS)
echo "swagger-ui-dist $version vendored into $dest:"
cat "$dest/SHA256SUMS"
