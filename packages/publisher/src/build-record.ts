import { readFile, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, XsError, type Backend } from '@xs-rsync/core'
import { isBuildName } from './build-name.js'

/** What is known about one published build: ROOT/state/builds/NAME.json. */
export interface BuildRecord {
  name: string
  /** Directory name under pub/builds/.trees: NAME@ID. */
  tree: string
  /** Source tarball file name in xobuilds-packed. */
  tarball: string
  /** Hex md5 of the tarball. */
  md5: string
  size: number
  mtimeMs: number
  ino: number
  /** sha256 of the .md5 file's content. */
  md5FileHash: string
  /** sha256 of the contents file. */
  contentsHash: string
  entries: number
  bytes: number
  /** ISO time. */
  publishedAt: string
  backend: Backend
  pristine?: string
  /**
   * Published by hand (`xs-rsync publish`) from this tarball (absolute path),
   * outside ROOT/xobuilds-packed or under another NAME than its .name file:
   * refresh neither removes nor replaces it; `xs-rsync remove` does.
   */
  source?: string
  /** Set by others (the agent: signature time etc.); kept across re-publishing. */
  extra?: Record<string, unknown>
}

const STRING_KEYS = ['name', 'tree', 'tarball', 'md5', 'md5FileHash', 'contentsHash', 'publishedAt'] as const
const NUMBER_KEYS = ['size', 'mtimeMs', 'ino', 'entries', 'bytes'] as const

/** Parse and check a record's JSON text. Pure; E_CONFIG naming `where`. */
export const parseBuildRecord = (text: string, where: string): BuildRecord => {
  const bad = (why: string): XsError => new XsError('E_CONFIG', `${where}: bad build record: ${why}`, { path: where })
  let o: unknown
  try {
    o = JSON.parse(text)
  } catch (er) {
    throw new XsError('E_CONFIG', `${where}: bad build record: ${(er as Error).message}`, { path: where, cause: er })
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('not an object')
  const r = o as Record<string, unknown>
  for (const k of STRING_KEYS) if (typeof r[k] !== 'string') throw bad(`${k} is not a string`)
  for (const k of NUMBER_KEYS) if (typeof r[k] !== 'number') throw bad(`${k} is not a number`)
  if (r.backend !== 'fake-super' && r.backend !== 'fakeroot') throw bad('backend is not fake-super or fakeroot')
  if (r.pristine !== undefined && typeof r.pristine !== 'string') throw bad('pristine is not a string')
  if (r.source !== undefined && (typeof r.source !== 'string' || !r.source.startsWith('/'))) throw bad('source is not an absolute path')
  if (r.extra !== undefined && (typeof r.extra !== 'object' || r.extra === null || Array.isArray(r.extra))) {
    throw bad('extra is not an object')
  }
  const rec = r as unknown as BuildRecord
  if (!isBuildName(rec.name) || !rec.tree.startsWith(`${rec.name}@`) || rec.tree.includes('/')) {
    throw bad('name or tree is not allowed')
  }
  return rec
}

export const recordPath = (recordsDir: string, name: string): string => join(recordsDir, `${name}.json`)

/** A record file's text, or undefined when there is none (E_IO for any other read error). */
export const readRecordText = async (p: string): Promise<string | undefined> => {
  try {
    return await readFile(p, 'utf8')
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new XsError('E_IO', `cannot read ${p}: ${(er as Error).message}`, { path: p, cause: er })
  }
}

/** The record for NAME, or undefined when there is none. */
export const readBuildRecord = async (recordsDir: string, name: string): Promise<BuildRecord | undefined> => {
  const p = recordPath(recordsDir, name)
  const text = await readRecordText(p)
  if (text === undefined) return undefined
  const rec = parseBuildRecord(text, p)
  if (rec.name !== name) throw new XsError('E_CONFIG', `${p}: record is for build ${rec.name}`, { path: p })
  return rec
}

/** All records, sorted by name. Files that are not NAME.json are skipped. */
export const readBuildRecords = async (recordsDir: string): Promise<BuildRecord[]> => {
  let files: string[]
  try {
    files = await readdir(recordsDir)
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw er
  }
  const names = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter(isBuildName).sort()
  const recs = await Promise.all(names.map((n) => readBuildRecord(recordsDir, n)))
  return recs.filter((r): r is BuildRecord => r !== undefined)
}

export const writeBuildRecord = async (recordsDir: string, rec: BuildRecord): Promise<void> =>
  atomicWrite(recordPath(recordsDir, rec.name), JSON.stringify(rec, null, 2) + '\n')

export const removeBuildRecord = async (recordsDir: string, name: string): Promise<void> =>
  unlink(recordPath(recordsDir, name)).catch((er: NodeJS.ErrnoException) => {
    if (er.code !== 'ENOENT') throw er
  })
