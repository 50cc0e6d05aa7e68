import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export type Compressor = 'bzip2' | 'pbzip2' | 'lbzip2' | 'xz' | 'lzma'

export const EXT: Record<Compressor, string> = { bzip2: 'tar.bz2', pbzip2: 'tar.bz2', lbzip2: 'tar.bz2', xz: 'tar.xz', lzma: 'tar.lzma' }

const ARGS: Record<Compressor, [string, string[]]> = {
  bzip2: ['bzip2', ['-c']],
  pbzip2: ['pbzip2', ['-p2', '-c']],
  lbzip2: ['lbzip2', ['-n2', '-c']],
  xz: ['xz', ['-c', '-0']],
  lzma: ['xz', ['-c', '-0', '--format=lzma']],
}

/** Compress `file` with a real tool into `out`. */
export const compressFile = (file: string, how: Compressor, out: string): string => {
  const [cmd, args] = ARGS[how]
  writeFileSync(out, execFileSync(cmd, [...args, file], { maxBuffer: 1 << 30 }))
  return out
}

/** Compress bytes with a real tool. */
export const compressBytes = (data: Uint8Array, how: Compressor): Buffer => {
  const [cmd, args] = ARGS[how]
  return execFileSync(cmd, args, { input: data, maxBuffer: 1 << 30 })
}

/**
 * Shell script run under fakeroot: an OS-like tree with every kind of entry
 * and owner/mode oddity, then `tar --numeric-owner` of it in the same
 * session, in GNU and in POSIX (pax) format. $1 = source dir, $2 = output prefix.
 */
const TREE_SCRIPT = String.raw`
set -e
S="$1"; T="$2"
mkdir -p "$S"; cd "$S"
mkdir -p etc bin dev run tmp ro/sub secret names long
printf 'root:*:19000:0:99999:7:::\n' > etc/shadow; chmod 0000 etc/shadow
printf 'hostname\n' > etc/hostname; chown 0:0 etc/hostname; chmod 0644 etc/hostname
printf '#!/bin/sh\necho su\n' > bin/su; chmod 4755 bin/su
printf 'wall\n' > bin/wall; chown 0:5 bin/wall; chmod 2755 bin/wall
chmod 1777 tmp
printf 'in ro\n' > ro/sub/file; chmod 0444 ro/sub/file; chmod 0555 ro/sub; chmod 0555 ro
printf 'secret\n' > secret/key; chown -R 1000:1000 secret; chmod 0700 secret; chmod 0600 secret/key
mknod dev/null c 1 3; chmod 0666 dev/null
mknod dev/sda1 b 8 1; chown 0:6 dev/sda1; chmod 0660 dev/sda1
mknod dev/big c 4 300; chmod 0620 dev/big; chown 12345:54321 dev/big
mkfifo run/fifo; chmod 0600 run/fifo
ln -s ../bin/su etc/rel-link
ln -s /usr/share/zoneinfo/UTC etc/localtime
ln -s nowhere/at/all etc/dangling
chown -h 1000:1000 etc/dangling
printf 'linked\n' > bin/a; chown 7:8 bin/a; chmod 0751 bin/a
ln bin/a bin/b; ln bin/a bin/c
head -c 3000000 /dev/urandom > bin/big
touch 'names/with space' "names/$(printf 'new\nline')" 'names/quote"s' 'names/back\slash' "names/$(printf 'latin\377\376')"
touch 'names/dev-disk-by\x2dlabel-ROOT.swap' "names/$(printf 'uni\342\210\225code')"
L=long/$(printf 'a%.0s' $(seq 60))/$(printf 'b%.0s' $(seq 60))
mkdir -p "$L"; printf 'deep\n' > "$L/file"
touch "long/$(printf 'n%.0s' $(seq 255))"
chown 12345:54321 "$L/file"
find . -mindepth 1 -depth -exec touch -h -d '2020-01-02 03:04:05 UTC' {} +
touch -h -d '2019-05-06 07:08:09 UTC' etc/rel-link bin/big ro/sub
touch -d '2018-01-01 00:00:00 UTC' .
chmod 0750 .
cd "$S"; tar --numeric-owner --format=gnu -cf "$T.gnu.tar" .; tar --numeric-owner --format=posix -cf "$T.posix.tar" .
`

/** A tree with a versions/pristine layout, as olpc-os-builder makes. */
const PRISTINE_SCRIPT = String.raw`
set -e
S="$1"; T="$2"
mkdir -p "$S"; cd "$S"
mkdir -p versions/pristine/zz1/etc versions/pristine/aa1/etc versions/pristine/aa1/boot versions/run boot
printf 'first\n' > versions/pristine/aa1/etc/issue
printf 'second\n' > versions/pristine/zz1/etc/issue
printf 'outside\n' > boot/olpc.fth
ln versions/pristine/aa1/etc/issue versions/pristine/aa1/boot/issue-link
ln -s ../pristine/aa1 versions/run/aa1
chown 0:10 versions/pristine/aa1; chmod 0711 versions/pristine/aa1
find . -mindepth 1 -depth -exec touch -h -d '2021-03-04 05:06:07 UTC' {} +
cd "$S"; tar --numeric-owner --format=gnu -cf "$T.gnu.tar" .; tar --numeric-owner --format=posix -cf "$T.posix.tar" .
`

export type TreeKind = 'os' | 'pristine'

/** Build the test tree under fakeroot and tar it, in GNU and POSIX format (same tree). */
export const makeTreeTar = (dir: string, kind: TreeKind = 'os'): { gnu: string, posix: string } => {
  const script = join(dir, `${kind}.sh`)
  writeFileSync(script, kind === 'os' ? TREE_SCRIPT : PRISTINE_SCRIPT)
  const prefix = join(dir, kind)
  execFileSync('fakeroot', ['--', 'sh', script, `${prefix}-src`, prefix], { env: { ...process.env, LC_ALL: 'C' } })
  return { gnu: `${prefix}.gnu.tar`, posix: `${prefix}.posix.tar` }
}

export interface RawEntry {
  name: string
  type?: string
  size?: number
  mode?: number
  linkname?: string
  /** Override the header size field text (12 bytes incl. terminator). */
  sizeField?: Buffer
  data?: Uint8Array
  /** Corrupt the checksum. */
  badChecksum?: boolean
}

const oct = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0'

/** One ustar header block (names as latin1 byte strings). */
export const tarHeader = (e: RawEntry): Buffer => {
  const b = Buffer.alloc(512)
  b.write(e.name.slice(0, 100), 0, 'latin1')
  b.write(oct(e.mode ?? 0o644, 8), 100, 'latin1')
  b.write(oct(0, 8), 108, 'latin1')
  b.write(oct(0, 8), 116, 'latin1')
  if (e.sizeField !== undefined) e.sizeField.copy(b, 124)
  else b.write(oct(e.size ?? e.data?.length ?? 0, 12), 124, 'latin1')
  b.write(oct(1600000000, 12), 136, 'latin1')
  b.write('        ', 148, 'latin1')
  b.write(e.type ?? '0', 156, 'latin1')
  if (e.linkname !== undefined) b.write(e.linkname, 157, 'latin1')
  b.write('ustar\x0000', 257, 'latin1')
  let sum = 0
  for (const x of b) sum += x
  b.write(oct(e.badChecksum === true ? sum + 1 : sum, 7) + ' ', 148, 'latin1')
  return b
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512)

/** A whole tar (entries with their data, then the end-of-archive marker). */
export const rawTar = (entries: RawEntry[], end = true): Buffer =>
  Buffer.concat([
    ...entries.flatMap((e) => {
      const data = Buffer.from(e.data ?? new Uint8Array(0))
      return [tarHeader(e), data, pad(data.length)]
    }),
    end ? Buffer.alloc(1024) : Buffer.alloc(0),
  ])

/** A pax 'x' record set: "LEN key=value\n". */
export const paxRecords = (recs: [string, string][]): Buffer =>
  Buffer.concat(recs.map(([k, v]) => {
    const body = ` ${k}=${v}\n`
    let len = Buffer.byteLength(body) + 1
    while (String(len).length + Buffer.byteLength(body) !== len) len++
    return Buffer.from(`${len}${body}`)
  }))
