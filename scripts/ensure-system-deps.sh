#!/usr/bin/env bash
# Install the Debian packages listed in scripts/system-deps.txt that are missing.
# Used by .ci/run, `npm run demo` and `npm test`; quick when everything is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t want < <(grep -v '^\s*#' "$here/system-deps.txt" | grep -v '^\s*$')
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "xs-rsync: installing missing system packages: ${missing[*]}" >&2
if [ "$(id -u)" != 0 ]; then
  echo "xs-rsync: not root: run  sudo apt-get install -y ${missing[*]}  first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
