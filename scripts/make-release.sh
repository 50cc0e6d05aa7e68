#!/usr/bin/env bash
# Build the release tarball: one `npm pack` file that installs on a school
# server with no network:
#   sudo npm install --global --offline ./xs-rsync-VERSION.tgz && sudo xs-rsync setup
# The workspace packages and every runtime dependency are bundled inside it
# (bundleDependencies), so npm fetches nothing. The native optional
# dependencies of `watch` (usb, drivelist) are left out: `watch` then polls,
# and the udev rule is the normal way sticks are noticed. The systemd units,
# the udev rule and the admin guide are copied into share/ for `xs-rsync setup`;
# README, LICENSE and the man page xs-rsync(1) come along.
# Needs the npm registry (or a filled npm cache) here, at the NOC, not at the school.
#
# usage: scripts/make-release.sh [--no-build] [OUTDIR]   (default OUTDIR: release/)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=1
if [ "${1:-}" = --no-build ]; then build=0; shift; fi
out=$(mkdir -p "${1:-$repo/release}" && cd "${1:-$repo/release}" && pwd)
cd "$repo"
[ $build = 1 ] && npx tsc -b
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm_q=(--no-audit --no-fund --loglevel=error)
for p in core publisher agent xs-rsync; do
  (cd "packages/$p" && npm pack --ignore-scripts "${npm_q[@]}" --pack-destination "$work" >/dev/null)
done
version=$(node -p 'require("./packages/xs-rsync/package.json").version')
tar -xzf "$work/xs-rsync-$version.tgz" -C "$work"
pkg="$work/package"
mkdir -p "$pkg/share/systemd" "$pkg/share/udev" "$pkg/share/doc"
cp systemd/*.service systemd/*.socket systemd/*.timer "$pkg/share/systemd/"
cp udev/*.rules "$pkg/share/udev/"
cp docs/*.md "$pkg/share/doc/"
# README and LICENSE at the top (npm shows them), and the man page xs-rsync(1),
# rendered from the same tables as --help (npm links it into PREFIX/share/man)
cp README.md LICENSE "$pkg/"
mkdir -p "$pkg/share/man/man1"
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%F)
node --input-type=module -e "import * as m from 'xs-rsync'; process.stdout.write(m.renderManPage('$version', '$date'))" > "$pkg/share/man/man1/xs-rsync.1"
# Install the workspace packages from their tarballs (not the registry) and
# their dependencies, production only, then bundle all of it.
node -e '
  const fs = require("fs"); const [file, dir] = process.argv.slice(1)
  const p = JSON.parse(fs.readFileSync(file, "utf8"))
  for (const n of Object.keys(p.dependencies)) {
    if (n.startsWith("@xs-rsync/")) p.dependencies[n] = `file:${dir}/xs-rsync-${n.slice(10)}-${p.version}.tgz`
  }
  fs.writeFileSync(file, JSON.stringify(p, null, 2) + "\n")
' "$pkg/package.json" "$work"
(cd "$pkg" && npm install --omit=dev --omit=optional --ignore-scripts --install-links --prefer-offline "${npm_q[@]}" >/dev/null)
node -e '
  const fs = require("fs"); const file = process.argv[1]
  const p = JSON.parse(fs.readFileSync(file, "utf8"))
  for (const n of Object.keys(p.dependencies)) if (n.startsWith("@xs-rsync/")) p.dependencies[n] = p.version
  p.bundleDependencies = Object.keys(p.dependencies)
  p.man = ["./share/man/man1/xs-rsync.1"]
  fs.writeFileSync(file, JSON.stringify(p, null, 2) + "\n")
' "$pkg/package.json"
rm -f "$pkg/package-lock.json"
(cd "$pkg" && npm pack --ignore-scripts "${npm_q[@]}" --pack-destination "$out" >/dev/null)
echo "$out/xs-rsync-$version.tgz"
