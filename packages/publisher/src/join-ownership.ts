import { spawn } from 'node:child_process'
import { XsError } from '@xs-rsync/core'
import type { InodeMeta } from './inode-meta.js'
import { isMetaRecord, parseMetaRecord, parseNameRecord, recordKey, type NameRecord } from './ownership-records.js'

/** sort's own memory: it spills to `tmp` beyond this, so a bigger tree costs disk, not memory. */
const SORT_MEMORY = '16M'
const SORT_MEMORY_BYTES = 16 * 1024 * 1024

/**
 * Bytes `sort` may hold in spill files in `tmp` while joining `inputBytes` of
 * records: its input once, while at most 16 spill files (GNU sort's merge
 * width) are merged straight into its output; with more, a merge pass writes
 * a merged file before it deletes the files merged, so twice the input.
 */
export const sortSpillBound = (inputBytes: number): number =>
  inputBytes <= 16 * SORT_MEMORY_BYTES ? inputBytes : 2 * inputBytes

/**
 * Join the spooled meta records with the served names by inode (one
 * `sort -z` child, C locale, bounded memory) and call `onName` for every
 * served name with the metadata of its inode (the last meta record written
 * for it). `firstOfInode` is true once per inode at that name (hardlinked
 * names share one; a converted symlink is its own). Meta records of inodes
 * no served name has (replaced, outside the served tree) are dropped.
 */
export const joinOwnership = async (
  files: string[],
  tmp: string,
  onName: (name: NameRecord, meta: InodeMeta, firstOfInode: boolean) => void,
): Promise<void> => {
  const child = spawn('sort', ['-z', '-S', SORT_MEMORY, '-T', tmp, '--', ...files], {
    env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { if (err.length < 4096) err += d.toString() })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run sort (Debian package "coreutils"): ${er.message}`, { cause: er })))
    child.on('close', (code) => resolve(code))
  })
  let key = ''
  let meta: InodeMeta | undefined
  let inodeSeen = false
  let rest = ''
  const take = (rec: string): void => {
    const k = recordKey(rec)
    if (k !== key) {
      key = k
      meta = undefined
      inodeSeen = false
    }
    if (isMetaRecord(rec)) {
      meta = parseMetaRecord(rec)
      return
    }
    const name = parseNameRecord(rec)
    if (meta === undefined) throw new XsError('E_INTERNAL', `no metadata recorded for the served name ${JSON.stringify(name.path)}`)
    const first = name.converted || !inodeSeen
    if (!name.converted) inodeSeen = true
    onName(name, meta, first)
  }
  try {
    for await (const chunk of child.stdout) {
      const text = rest + (chunk as Buffer).toString('latin1')
      let at = 0
      for (let nul = text.indexOf('\0'); nul >= 0; nul = text.indexOf('\0', at)) {
        take(text.slice(at, nul))
        at = nul + 1
      }
      rest = text.slice(at)
    }
  } catch (er) {
    child.kill()
    await exited.catch(() => undefined)
    throw er
  }
  const code = await exited
  if (code !== 0 || rest !== '') {
    throw new XsError('E_IO', `sorting the ownership records in ${tmp} failed (exit ${code}): ${err.trim().split('\n').slice(0, 3).join('; ')}`, { path: tmp })
  }
}
