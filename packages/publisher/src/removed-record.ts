import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, XsError } from '@xs-rsync/core'
import { parseBuildRecord, readRecordText, type BuildRecord } from './build-record.js'

/**
 * What is kept of a removed build: its last record (with the stick's
 * signature time, `extra.ingest`) and when it was removed, in
 * ROOT/state/removed/NAME.json. The ingest compares a stick with it as with
 * a published build, so the stick it came from, or an older one, cannot
 * bring it back; `xs-rsync remove --forget NAME` drops it.
 */
export interface RemovedRecord {
  record: BuildRecord
  /** ISO time. */
  removedAt: string
}

const removedPath = (stateDir: string, name: string): string => join(stateDir, 'removed', `${name}.json`)

/** Parse and check a removed record's JSON text. Pure; E_CONFIG naming `where`. */
export const parseRemovedRecord = (text: string, where: string): RemovedRecord => {
  let o: unknown
  try {
    o = JSON.parse(text)
  } catch (er) {
    throw new XsError('E_CONFIG', `${where}: bad removed-build record: ${(er as Error).message}`, { path: where, cause: er })
  }
  const r = o as Partial<RemovedRecord> | null
  if (typeof r !== 'object' || r === null || typeof r.removedAt !== 'string' || Number.isNaN(Date.parse(r.removedAt))) {
    throw new XsError('E_CONFIG', `${where}: bad removed-build record: no removedAt time`, { path: where })
  }
  return { record: parseBuildRecord(JSON.stringify(r.record), where), removedAt: r.removedAt }
}

/** The removed record of NAME, or undefined. */
export const readRemovedRecord = async (stateDir: string, name: string): Promise<RemovedRecord | undefined> => {
  const p = removedPath(stateDir, name)
  const text = await readRecordText(p)
  if (text === undefined) return undefined
  const r = parseRemovedRecord(text, p)
  if (r.record.name !== name) throw new XsError('E_CONFIG', `${p}: record is for build ${r.record.name}`, { path: p })
  return r
}

export const writeRemovedRecord = async (stateDir: string, r: RemovedRecord): Promise<void> =>
  atomicWrite(removedPath(stateDir, r.record.name), JSON.stringify(r, null, 2) + '\n')

/** Drop NAME's removed record; true when there was one. */
export const forgetRemovedRecord = async (stateDir: string, name: string): Promise<boolean> =>
  unlink(removedPath(stateDir, name)).then(() => true, (er: NodeJS.ErrnoException) => {
    if (er.code === 'ENOENT') return false
    throw er
  })
