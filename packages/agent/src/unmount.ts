import { rmdir } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { XsError } from '@xs-rsync/core'
import { isMountPoint, type Mounted } from './mount.js'
import { runTool } from './run-tool.js'

export interface UnmountOptions {
  /** Tries while the mount is busy. Default 25. */
  tries?: number
  /** Pause between tries. Default 200 ms. */
  delayMs?: number
}

/**
 * Undo mountReadOnly: unmount (retrying briefly while busy) and remove the
 * folder. A mount that is already gone counts as done.
 * Throws E_MOUNT with the tool's message when it stays mounted.
 */
export const unmount = async (m: Mounted, opts: UnmountOptions = {}): Promise<void> => {
  const tries = opts.tries ?? 25
  let last = ''
  for (let i = 0; i < tries && (await isMountPoint(m.dir)); i++) {
    if (i > 0) await sleep(opts.delayMs ?? 200)
    const r = m.method === 'fusefat'
      ? await runTool('fusermount', ['-u', m.dir])
      : await runTool('umount', [m.dir])
    last = r.stderr.trim() || `exit ${r.code}`
  }
  if (await isMountPoint(m.dir)) {
    throw new XsError('E_MOUNT', `cannot unmount ${m.dir}: ${last}`, { path: m.dir })
  }
  await rmdir(m.dir).catch((er: NodeJS.ErrnoException) => {
    if (er.code !== 'ENOENT') throw new XsError('E_IO', `cannot remove ${m.dir}: ${er.message}`, { path: m.dir, cause: er })
  })
}
