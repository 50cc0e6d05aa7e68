import { mkdir, readFile, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { atomicWrite, type XsError } from '@xs-rsync/core'
import { isBuildName } from './build-name.js'
import type { PackedBuild } from './read-packed-builds.js'

/**
 * A packed build whose archive was refused for what it holds:
 * ROOT/state/refused/NAME.json. Refresh does not unpack that same tarball
 * again (it says so, and what was served before stays served) until its
 * files change or `--force` is given, so a build that can never be published
 * does not trip every later job.
 */
export interface RefusedBuild {
  name: string
  /** The tarball's file name and what identifies its version (as a build record does). */
  tarball: string
  size: number
  mtimeMs: number
  ino: number
  md5FileHash: string
  contentsHash: string
  code: string
  message: string
  /** ISO time. */
  refusedAt: string
}

/** Codes that say the archive itself is bad: unpacking it again gives the same answer. */
export const LASTING_REFUSALS = new Set(['E_ARCHIVE_UNSAFE', 'E_ARCHIVE_CORRUPT', 'E_ARCHIVE_FORMAT', 'E_CHECKSUM'])

export const refusedDir = (state: string): string => join(state, 'refused')

/** The refusal of `b` recorded earlier, when it is about exactly these files. */
export const readRefusal = async (state: string, b: PackedBuild): Promise<RefusedBuild | undefined> => {
  if (!isBuildName(b.name)) return undefined
  let r: Partial<RefusedBuild>
  try {
    r = JSON.parse(await readFile(join(refusedDir(state), `${b.name}.json`), 'utf8')) as Partial<RefusedBuild>
  } catch {
    return undefined
  }
  const same = r.name === b.name && r.tarball === basename(b.tarball) && r.size === b.size && r.mtimeMs === b.mtimeMs &&
    r.ino === b.ino && r.md5FileHash === b.md5FileHash && r.contentsHash === b.contentsHash
  return same && typeof r.code === 'string' && typeof r.message === 'string' ? r as RefusedBuild : undefined
}

export const recordRefusal = async (state: string, b: PackedBuild, error: XsError, now = new Date()): Promise<void> => {
  const rec: RefusedBuild = {
    name: b.name, tarball: basename(b.tarball), size: b.size, mtimeMs: b.mtimeMs, ino: b.ino,
    md5FileHash: b.md5FileHash, contentsHash: b.contentsHash, code: error.code, message: error.message, refusedAt: now.toISOString(),
  }
  await mkdir(refusedDir(state), { recursive: true, mode: 0o755 })
  await atomicWrite(join(refusedDir(state), `${b.name}.json`), JSON.stringify(rec, null, 2) + '\n')
}

export const clearRefusal = async (state: string, name: string): Promise<void> => {
  if (isBuildName(name)) await rm(join(refusedDir(state), `${name}.json`), { force: true })
}
