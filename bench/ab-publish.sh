#!/bin/bash
# A/B of `xs-rsync publish` between built checkouts (on demand, root), with
# the plain unpack beside them, interleaved round by round, page cache
# dropped before each run, nothing deleted until the end (see PLACES in
# bench/publish.ts for why). Prints wall, user and system CPU seconds and the
# peak RSS (KiB, largest process) of each run.
#   bench/ab-publish.sh TARBALL ROUNDS LABEL=CHECKOUT|tar|original ...
# e.g. bench/ab-publish.sh bench/out/scale/real/os-real-tree.tar.bz2 2 old=/tmp/old new=. tar=tar
set -euo pipefail
src=$(realpath "$1"); rounds=$2; shift 2
ext=${src#*.}
base=$(dirname "$(realpath "$0")")/out/ab
mkdir -p "$base"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
for r in $(seq 1 "$rounds"); do
  for c in "$@"; do
    label=${c%%=*}; dir=${c#*=}
    w=$base/$label-$r-$$; mkdir -p "$w/store/xobuilds-packed" "$w/t"
    fmt="$label round $r: wall %e user %U sys %S peak-rss-KiB %M"
    case $dir in
      tar) drop; /usr/bin/time -f "$fmt" tar -I lbzip2 -xf "$src" -C "$w/t" ;;
      original) drop; /usr/bin/time -f "$fmt" fakeroot -s "$w/state" -- tar --numeric-owner -xpjf "$src" -C "$w/t" ;;
      *)
        cp "$src" "$w/store/xobuilds-packed/os1-tree.$ext"
        (cd "$w/store/xobuilds-packed" && md5sum "os1-tree.$ext" > "os1-tree.$ext.md5" && echo '{}' > os1.contents && echo b1 > os1.name)
        drop
        /usr/bin/time -f "$fmt" node "$dir/packages/xs-rsync/bin/xs-rsync.js" publish "$w/store/xobuilds-packed/os1-tree.$ext" \
          --root "$w/store" --rsyncd-conf "$w/rsyncd.conf" --rsyncd-template "$w/none.in" --no-syslog --quiet ;;
    esac
  done
done
rm -rf "$base"
