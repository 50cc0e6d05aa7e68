/**
 * A tar with very many entries, written header by header (no tree on disk,
 * no tar run): the shape a real OS build has in bulk (folders of small files)
 * plus what makes per-entry state expensive: long names (GNU long-name
 * headers), symlinks, hardlinks with long targets, repeated folders.
 * Deterministic; about 20 MB/s of entries' worth is written per second, so
 * 100,000 entries take about a second before compression.
 */
import { closeSync, openSync, writeSync } from 'node:fs'

export interface ManyEntriesShape {
  /** Entries in all, folders included. */
  entries: number
  /** Files per folder. */
  perFolder: number
  /** Every n-th file gets a name of about `longName` bytes, at most 490 (GNU long name); 0: none. */
  longEvery: number
  longName: number
  /** Every n-th file is a hardlink to the previous file; 0: none. */
  hardlinkEvery: number
  /** Every n-th file is a symlink; 0: none. */
  symlinkEvery: number
  /** Bytes of content per regular file (one block at most keeps the tar small). */
  fileBytes: number
}

export const DEFAULT_MANY: ManyEntriesShape = {
  entries: 100_000, perFolder: 1000, longEvery: 97, longName: 480, hardlinkEvery: 13, symlinkEvery: 11, fileBytes: 100,
}

const oct = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0'

/** One GNU-format header block. */
const header = (name: string, type: string, size: number, mode: number, linkname = ''): Buffer => {
  const b = Buffer.alloc(512)
  b.write(name.slice(0, 100), 0, 'latin1')
  b.write(oct(mode, 8), 100, 'latin1')
  b.write(oct(0, 8), 108, 'latin1')
  b.write(oct(0, 8), 116, 'latin1')
  b.write(oct(size, 12), 124, 'latin1')
  b.write(oct(1600000000, 12), 136, 'latin1')
  b.write('        ', 148, 'latin1')
  b.write(type, 156, 'latin1')
  b.write(linkname.slice(0, 100), 157, 'latin1')
  b.write('ustar  \0', 257, 'latin1')
  let sum = 0
  for (const x of b) sum += x
  b.write(oct(sum, 7) + ' ', 148, 'latin1')
  return b
}

const padded = (data: Buffer): Buffer => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)])

/**
 * Write the tar to `file`. Returns its entries (headers, long-name ones
 * aside) and the names of the tree it unpacks to: the entries, the tree root
 * and the folders no entry lists (usr, usr/share, usr/share/fN).
 */
export const writeManyEntriesTar = (file: string, shape: Partial<ManyEntriesShape> = {}): { entries: number, names: number } => {
  const s = { ...DEFAULT_MANY, ...shape }
  const fd = openSync(file, 'w')
  const chunks: Buffer[] = []
  let pending = 0
  const put = (b: Buffer): void => {
    chunks.push(b)
    pending += b.length
    if (pending >= 1 << 20) flush()
  }
  const flush = (): void => {
    const all = Buffer.concat(chunks)
    for (let off = 0; off < all.length;) off += writeSync(fd, all, off)
    chunks.length = 0
    pending = 0
  }
  /** A header, preceded by GNU long-name ('L') / long-link ('K') headers when a name does not fit. */
  const entry = (name: string, type: string, size: number, mode: number, linkname = ''): void => {
    if (Buffer.byteLength(name, 'latin1') > 99) {
      const n = Buffer.from(name + '\0', 'latin1')
      put(header('././@LongLink', 'L', n.length, 0o644))
      put(padded(n))
    }
    if (Buffer.byteLength(linkname, 'latin1') > 99) {
      const n = Buffer.from(linkname + '\0', 'latin1')
      put(header('././@LongLink', 'K', n.length, 0o644))
      put(padded(n))
    }
    put(header(name, type, size, mode, linkname))
  }
  const content = padded(Buffer.alloc(s.fileBytes, 'x'))
  let written = 0
  let folder = 0
  let previous = ''
  try {
    while (written < s.entries) {
      const dir = `usr/share/f${Math.floor(folder / 100)}/pkg-${folder}`
      folder++
      entry(`${dir}/`, '5', 0, 0o755)
      written++
      for (let i = 0; i < s.perFolder && written < s.entries; i++, written++) {
        const long = s.longEvery > 0 && written % s.longEvery === 0
        const name = long ? `${dir}/${`long-${written}-`.padEnd(200, 'n')}/${'m'.repeat(Math.min(250, Math.max(1, s.longName - 240)))}` : `${dir}/file-${i}.txt`
        if (long) {
          // the long name's own folder, listed first
          entry(name.slice(0, name.lastIndexOf('/') + 1), '5', 0, 0o755)
          written++
        }
        if (s.hardlinkEvery > 0 && written % s.hardlinkEvery === 0 && previous !== '') {
          entry(name, '1', 0, 0o644, previous)
        } else if (s.symlinkEvery > 0 && written % s.symlinkEvery === 0) {
          entry(name, '2', 0, 0o777, `../../some/target-${i}`)
        } else {
          entry(name, '0', s.fileBytes, i % 7 === 0 ? 0o4755 : 0o644)
          put(content)
          previous = name
        }
      }
    }
    put(Buffer.alloc(1024))
    flush()
  } finally {
    closeSync(fd)
  }
  return { entries: written, names: written + 1 + 2 + Math.floor((folder - 1) / 100) + 1 }
}
