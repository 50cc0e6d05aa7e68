#!/usr/bin/env bash
# Build the Debian package xs-rsync_VERSION_all.deb with dpkg-deb, offline:
# everything comes from this checkout (its node_modules included), nothing
# from a registry. Install it on a school server with
#   apt install ./xs-rsync_VERSION_all.deb
#
# Layout:
#   /usr/lib/xs-rsync/            the xs-rsync package with its runtime
#                                 dependencies bundled in node_modules/ (not the
#                                 optional native usb/drivelist: the udev rule
#                                 notices sticks)
#   /usr/bin/xs-rsync (+ old names) links to /usr/lib/xs-rsync/bin/xs-rsync.js
#   /lib/systemd/system/          the units, as shipped (local changes go in
#                                 drop-ins: "systemctl edit NAME")
#   /lib/udev/rules.d/            the udev rule
#   /etc/xs-rsync/                conffiles: xs-rsync.conf, rsyncd.conf.in; keys/
#   /usr/share/man/man1/xs-rsync.1.gz, bash completion, /usr/share/doc/xs-rsync
# Maintainer scripts: packaging/deb/{postinst,prerm,postrm}.
#
# usage: scripts/make-deb.sh [--no-build] [OUTDIR]   (default OUTDIR: release/)
# Prints the path of the .deb on the last line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=1
if [ "${1:-}" = --no-build ]; then build=0; shift; fi
out=$(mkdir -p "${1:-$repo/release}" && cd "${1:-$repo/release}" && pwd)
cd "$repo"
[ $build = 1 ] && npx tsc -b
command -v dpkg-deb >/dev/null || { echo "make-deb.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 8; }

version=$(node -p 'require("./packages/xs-rsync/package.json").version')
pkg=xs-rsync
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
lib="$root/usr/lib/xs-rsync"
doc="$root/usr/share/doc/xs-rsync"
# Reproducible: every file dated from the last commit (or now, outside git).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
umask 022
# Maintainer: DEBFULLNAME/DEBEMAIL (the Debian convention), else the last commit's committer.
if [ -n "${DEBEMAIL:-}" ]; then maintainer="${DEBFULLNAME:-xs-rsync maintainers} <$DEBEMAIL>"
else maintainer=$(git log -1 --format='%cn <%ce>' 2>/dev/null || true); fi
[ -n "$maintainer" ] || { echo "make-deb.sh: set DEBEMAIL (and DEBFULLNAME) to name the package maintainer" >&2; exit 2; }

# the program and its runtime dependencies
mkdir -p "$lib"
node scripts/bundle-runtime-deps.mjs "$repo" "$lib" > "$work/bundled.tsv"
mkdir -p "$lib/share/systemd" "$lib/share/udev"
cp systemd/*.service systemd/*.socket systemd/*.timer "$lib/share/systemd/"
cp udev/*.rules "$lib/share/udev/"
ln -s ../../../share/doc/xs-rsync "$lib/share/doc"
chmod 755 "$lib/bin/xs-rsync.js"
mkdir -p "$root/usr/bin"
for name in xs-rsync $(node -p 'Object.keys(require("./packages/xs-rsync/package.json").bin).filter(n => n !== "xs-rsync").join(" ")'); do
  ln -s ../lib/xs-rsync/bin/xs-rsync.js "$root/usr/bin/$name"
done

# units, rule, config
mkdir -p "$root/lib/systemd/system" "$root/lib/udev/rules.d" "$root/etc/xs-rsync/keys"
install -m 644 systemd/*.service systemd/*.socket systemd/*.timer "$root/lib/systemd/system/"
install -m 644 udev/*.rules "$root/lib/udev/rules.d/"
install -m 644 packages/xs-rsync/share/xs-rsync.conf packages/xs-rsync/share/rsyncd.conf.in "$root/etc/xs-rsync/"

# man page, completion, docs
mkdir -p "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" "$doc"
render() { node --input-type=module -e "import * as m from 'xs-rsync'; process.stdout.write($1)"; }
render "m.renderManPage('$version', '$date')" | gzip -9n > "$root/usr/share/man/man1/xs-rsync.1.gz"
for name in xs-refresh-xobuilds xs-publish-xobuild xs-unpack-xobuild; do
  ln -s xs-rsync.1.gz "$root/usr/share/man/man1/$name.1.gz"
done
render "m.renderBashCompletion()" > "$root/usr/share/bash-completion/completions/xs-rsync"
for name in xs-refresh-xobuilds xs-publish-xobuild xs-unpack-xobuild; do
  ln -s xs-rsync "$root/usr/share/bash-completion/completions/$name"
done
install -m 644 README.md docs/*.md "$doc/"
{
  printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$version"
  printf '  * Release %s, built from commit %s.\n\n' "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$doc/changelog.gz"

# copyright: ours, then one paragraph per bundled module, from its package.json and license file
{
  cat packaging/deb/copyright
  declare -A seen_lic=()
  while IFS=$'\t' read -r path license holder; do
    case "$license" in
      MIT) lic=Expat ;;
      LGPL-3.0+|LGPL-3.0-or-later) lic=LGPL-3+ ;;
      *) lic=$license ;;
    esac
    seen_lic[$lic]=1
    printf '\nFiles: usr/lib/xs-rsync/%s/*\nCopyright: %s\nLicense: %s\n' "$path" "$holder" "$lic"
  done < "$work/bundled.tsv"
  for lic in "${!seen_lic[@]}"; do
    case "$lic" in
      Expat) printf '\nLicense: Expat\n%s\n' "$(sed 's/^/ /; s/^ $/ ./' packaging/deb/expat.txt)" ;;
      Apache-2.0) printf '\nLicense: Apache-2.0\n On Debian systems, the full text of the Apache License 2.0 can be found\n in the file /usr/share/common-licenses/Apache-2.0.\n' ;;
      LGPL-3+) printf '\nLicense: LGPL-3+\n On Debian systems, the full text of the GNU Lesser General Public License\n version 3 can be found in the file /usr/share/common-licenses/LGPL-3.\n' ;;
      *) echo "make-deb.sh: bundled module with license $lic: add its paragraph to make-deb.sh" >&2; exit 1 ;;
    esac
  done
} > "$doc/copyright"
chmod 644 "$doc/copyright"

# control files
mkdir -p "$root/DEBIAN"
size=$(du -sk --apparent-size "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s|@MAINTAINER@|$maintainer|" \
  packaging/deb/control.in > "$root/DEBIAN/control"
install -m 755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
(cd "$root" && find etc -type f -printf '/%p\n' | sort) > "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 755 {} +
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb="$out/${pkg}_${version}_all.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
