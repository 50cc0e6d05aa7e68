import { createHash } from 'node:crypto'
import { exactTimeText } from './file-time.js'
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, type InodeMeta } from './inode-meta.js'

/**
 * Listings that `verify` compares: one ASCII line per name of a served tree,
 * `QUOTED<TAB>VALUE`, QUOTED the name as getfattr writes it (quoteFattrName),
 * VALUE what a laptop would get for it:
 * `TYPE PERM UID:GID MAJOR,MINOR MTIME DISK SIZE:SHA1`
 * TYPE one of d f l c b p (what is served), PERM octal with setuid bits,
 * MTIME seconds with nine digits (exactTimeText), DISK how the name is on the server's disk (D folder, F file, L symlink:
 * fake super keeps symlinks, devices and fifos as plain files), SIZE:SHA1
 * the content (a symlink's: its target; a folder's: -).
 * Pure functions; the I/O that makes listings is in verify-build.ts.
 */

const TYPE_CHAR: Record<number, string> = { [S_IFDIR]: 'd', [S_IFREG]: 'f', [S_IFLNK]: 'l', [S_IFCHR]: 'c', [S_IFBLK]: 'b', [S_IFIFO]: 'p' }

export const EMPTY_SHA1 = createHash('sha1').digest('hex')

/** "f644 0:0 0,0": the served part of a value, from a full st_mode and owners. */
export const servedPart = (mode: number, uid: number, gid: number, major: number, minor: number): string => {
  const type = TYPE_CHAR[mode & S_IFMT] ?? '?'
  const dev = type === 'c' || type === 'b' ? `${major},${minor}` : '0,0'
  return `${type}${(mode & 0o7777).toString(8)} ${uid}:${gid} ${dev}`
}

/** How a served type is kept on disk by a backend. */
export const diskKind = (served: string, backend: 'fake-super' | 'fakeroot'): string =>
  served === 'd' ? 'D' : served === 'l' && backend === 'fakeroot' ? 'L' : 'F'


/** The value the archive says a name should have. */
export const expectedValue = (meta: InodeMeta, backend: 'fake-super' | 'fakeroot', content: string): string => {
  const served = servedPart(meta.mode, meta.uid, meta.gid, meta.devmajor, meta.devminor)
  return `${served} ${exactTimeText({ sec: meta.mtime, nsec: meta.mtimeNsec ?? 0 })} ${diskKind(served[0] ?? '?', backend)} ${content}`
}

/** The SIZE:SHA1 field of some bytes. */
export const contentField = (size: number, sha1: string): string => `${size}:${sha1}`

/**
 * Parse the value of user.rsync.%stat ("100644 0,0 0:0") into the served
 * part, or undefined when malformed. Pure.
 */
export const servedFromFakeSuper = (stat: string): string | undefined => {
  const m = /^([0-7]+) (\d+),(\d+) (\d+):(\d+)$/.exec(stat)
  if (m === null) return undefined
  return servedPart(parseInt(m[1]!, 8), Number(m[4]), Number(m[5]), Number(m[2]), Number(m[3]))
}

/** A glibc dev_t (decimal) as major, minor. */
export const splitDev = (rdev: bigint): [number, number] => [
  Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
  Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
]

/** A fakeroot save-file line as [dev, ino, served part], or undefined. Pure. */
export const servedFromFakerootLine = (line: string): [bigint, bigint, string] | undefined => {
  const m = /^dev=([0-9a-f]+),ino=(\d+),mode=([0-7]+),uid=(\d+),gid=(\d+),nlink=\d+,rdev=(\d+)$/.exec(line)
  if (m === null) return undefined
  const [major, minor] = splitDev(BigInt(m[6]!))
  return [BigInt(`0x${m[1]!}`), BigInt(m[2]!), servedPart(parseInt(m[3]!, 8), Number(m[4]), Number(m[5]), major, minor)]
}

/** Undo getfattr's \ooo escapes: the name's bytes. Pure. */
export const unquoteFattrName = (q: string): Buffer => {
  const out: number[] = []
  for (let i = 0; i < q.length; i++) {
    const m = q[i] === '\\' ? /^[0-7]{3}/.exec(q.slice(i + 1)) : null
    if (m !== null) {
      out.push(parseInt(m[0], 8))
      i += 3
    } else out.push(q.charCodeAt(i) & 0xff)
  }
  return Buffer.from(out)
}

export interface ListingDifference {
  /** The quoted name. */
  name: string
  /** Expected value, or undefined for a name the archive does not have. */
  expected?: string
  /** Found value, or undefined for a name missing from the tree. */
  actual?: string
}

const FIELDS = ['type and mode', 'owner', 'device', 'time', 'kind on disk', 'content'] as const

/** Which parts of two values differ ("owner", "content", ...). Pure. */
export const describeValueDifference = (expected: string, actual: string): string[] => {
  const e = expected.split(' ')
  const a = actual.split(' ')
  return FIELDS.filter((_, i) => e[i] !== a[i])
}

/**
 * Compare the expected listing (sorted; several lines per name possible, the
 * last in archive order wins: `QUOTED\tINDEX\tVALUE`) with the actual one
 * (sorted, `QUOTED\tVALUE`). VALUE `*` (a hardlink, checked on its own)
 * matches anything; `implicit` (a folder the archive does not list) matches
 * any folder. Memory does not grow with the listings.
 */
export const diffListings = async (expected: AsyncIterable<string>, actual: AsyncIterable<string>,
  onDiff: (d: ListingDifference) => void): Promise<number> => {
  const exp = lastPerName(expected)[Symbol.asyncIterator]()
  const act = actual[Symbol.asyncIterator]()
  let e = await exp.next()
  let a = await act.next()
  let n = 0
  const diff = (d: ListingDifference): void => { n++; onDiff(d) }
  while (e.done !== true || a.done !== true) {
    const [en, ev] = e.done === true ? [undefined, undefined] : e.value
    const [an, av] = a.done === true ? [undefined, undefined] : splitOnce(a.value)
    if (an === undefined || (en !== undefined && en < an)) {
      diff({ name: en!, expected: ev! })
      e = await exp.next()
    } else if (en === undefined || an < en) {
      diff({ name: an, actual: av! })
      a = await act.next()
    } else {
      const ok = ev === av || ev === '*' || (ev === 'implicit' && av!.startsWith('d'))
      if (!ok) diff({ name: en, expected: ev!, actual: av! })
      e = await exp.next()
      a = await act.next()
    }
  }
  return n
}

const splitOnce = (line: string): [string, string] => {
  const i = line.indexOf('\t')
  return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)]
}

/** `QUOTED\tINDEX\tVALUE` lines sorted by name then index -> [name, value] of the last line per name. */
async function * lastPerName (lines: AsyncIterable<string>): AsyncGenerator<[string, string]> {
  let cur: [string, string] | undefined
  for await (const line of lines) {
    if (line === '') continue
    const [name, rest] = splitOnce(line)
    const value = splitOnce(rest)[1]
    if (cur !== undefined && cur[0] !== name) yield cur
    cur = [name, value]
  }
  if (cur !== undefined) yield cur
}
