#!/usr/bin/env bash
# What the original xs-rsync did with a stick, for the benchmark:
# copy to a temp folder, sha1sum -c the manifest, md5sum -c each build,
# then unpack under fakeroot with tar (bzip2 single-threaded).
# usage: original-ingest.sh STICK_XS_XOBUILDS_DIR WORKDIR
set -euo pipefail
src=$1; work=$2
mkdir -p "$work/tmp" "$work/pub"
cp "$src"/* "$work/tmp/"
cd "$work/tmp"
sha1sum --quiet -c manifest.sha1
for m in *.md5; do md5sum --quiet -c "$m"; done
for t in *-tree.tar.bz2; do
  name=$(head -n1 "${t%-tree.tar.bz2}.name")
  mkdir -p "$work/pub/$name"
  fakeroot -s "$work/pub/$name.fakeroot" -- tar --numeric-owner -xpjf "$t" -C "$work/pub/$name"
done
