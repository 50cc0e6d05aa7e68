import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fsyncDir, silentLog, type LogFn, type XsConfig } from '@xs-rsync/core'
import { removeBuildRecord } from './build-record.js'
import { publishLayout } from './publish-layout.js'

/**
 * Stop publishing NAME (the store lock must be held): its symlink and record
 * go now; its version tree is removed by the next run's garbage collection,
 * so a laptop pulling it can finish. Does not rewrite the rsync config: take
 * NAME out of it first (writeRsyncdConfInLock's `without`), or a run killed
 * in between leaves a module whose path is gone.
 */
export const removeBuildInLock = async (config: XsConfig, name: string, log: LogFn = silentLog): Promise<void> => {
  const layout = publishLayout(config.root)
  await unlink(join(layout.builds, name)).catch((er: NodeJS.ErrnoException) => {
    if (er.code !== 'ENOENT') throw er
  })
  await fsyncDir(layout.builds)
  await removeBuildRecord(layout.records, name)
  log('notice', `Removed build ${name}`)
}
