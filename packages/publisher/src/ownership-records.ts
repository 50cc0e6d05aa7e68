import type { InodeMeta } from './inode-meta.js'

/**
 * The records an unpack spools to disk instead of keeping them in memory,
 * NUL-terminated so that `sort -z` (C locale) joins them by inode:
 *
 *   meta record: INO(20 digits) "0" SEQ(12 digits) TAB mode uid gid major minor mtime size capability
 *     (mtime: SEC, or SEC.NNNNNNNNN when it has nanoseconds: SEC + N/1e9, SEC toward minus infinity)
 *     what the archive said about the inode the writer made (or, for a
 *     directory listed again, its new metadata); the last one of an inode wins.
 *   name record: KEY(20 digits) "1" 12 zeros TAB converted dev ino nlink path
 *     one name of the finished, served tree: KEY is the inode the writer made
 *     (whose meta records apply), dev/ino/nlink the inode at that name now (a
 *     fakeroot symlink placeholder turned into a symlink is a new inode:
 *     converted = "c"), path relative to the served root, any bytes but NUL.
 *
 * After sorting, an inode's meta records come first (in writing order), then
 * its names. Pure functions; strings are byte strings (latin1).
 */
export interface NameRecord {
  key: string
  converted: boolean
  dev: bigint
  ino: bigint
  nlink: bigint
  path: string
}

const pad = (n: bigint | number, width: number): string => n.toString().padStart(width, '0')

const renderMtime = (m: InodeMeta): string =>
  m.mtimeNsec === undefined || m.mtimeNsec === 0 ? String(m.mtime) : `${m.mtime}.${String(m.mtimeNsec).padStart(9, '0')}`

export const metaRecord = (ino: bigint, seq: number, m: InodeMeta): string =>
  `${pad(ino, 20)}0${pad(seq, 12)}\t${m.mode.toString(8)}\t${m.uid}\t${m.gid}\t${m.devmajor}\t${m.devminor}\t${renderMtime(m)}\t${m.size}\t` +
  `${m.capability === undefined ? '' : m.capability.toString('base64')}\0`

export const nameRecord = (key: bigint, converted: boolean, dev: bigint, ino: bigint, nlink: bigint, path: string): string =>
  `${pad(key, 20)}1000000000000\t${converted ? 'c' : '-'}\t${dev.toString(16)}\t${ino}\t${nlink}\t${path}\0`

/** The inode key of a sorted record (either kind). */
export const recordKey = (rec: string): string => rec.slice(0, 20)

/** True for a meta record, false for a name record. */
export const isMetaRecord = (rec: string): boolean => rec.charCodeAt(20) === 0x30

export const parseMetaRecord = (rec: string): InodeMeta => {
  const f = rec.split('\t')
  if (f.length !== 9) throw new Error(`malformed meta record ${JSON.stringify(rec.slice(0, 80))}`)
  const m: InodeMeta = {
    mode: parseInt(f[1] ?? '', 8), uid: Number(f[2]), gid: Number(f[3]), devmajor: Number(f[4]), devminor: Number(f[5]),
    mtime: 0, size: Number(f[7]),
  }
  const [sec = '', nsec] = (f[6] ?? '').split('.')
  m.mtime = Number(sec)
  if (nsec !== undefined) m.mtimeNsec = Number(nsec)
  if (f[8] !== '') m.capability = Buffer.from(f[8] ?? '', 'base64')
  return m
}

export const parseNameRecord = (rec: string): NameRecord => {
  // the path is the last field and may hold tabs: split only the fixed ones
  let at = 0
  const fields: string[] = []
  for (let i = 0; i < 5; i++) {
    const tab = rec.indexOf('\t', at)
    if (tab < 0) throw new Error(`malformed name record ${JSON.stringify(rec.slice(0, 80))}`)
    fields.push(rec.slice(at, tab))
    at = tab + 1
  }
  return {
    key: recordKey(rec), converted: fields[1] === 'c', dev: BigInt(`0x${fields[2] ?? ''}`), ino: BigInt(fields[3] ?? ''),
    nlink: BigInt(fields[4] ?? ''), path: rec.slice(at),
  }
}
