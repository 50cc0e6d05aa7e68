import { mkdtemp, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isProcessAlive as alive, type LogFn } from '@xs-rsync/core'
import { removeTree } from './remove-tree.js'

const STAGING_RE = /^([a-z][a-z0-9-]*)\.(\d+)\.[A-Za-z0-9]{6}$/

/**
 * A new staging directory ROOT/tmp/PREFIX.PID.XXXXXX (store filesystem, so a
 * rename publishes it). The pid in the name lets a later run tell staging of
 * a killed process from staging still in use.
 */
export const makeStagingDir = async (tmpDir: string, prefix: string): Promise<string> =>
  mkdtemp(join(tmpDir, `${prefix}.${process.pid}.`))

/** The staging names whose process is gone. Pure apart from the pid check, which is injectable. */
export const staleStaging = (names: readonly string[], isAlive: (pid: number) => boolean = alive): string[] =>
  names.filter((n) => {
    const m = STAGING_RE.exec(n)
    return m !== null && !isAlive(Number(m[2]))
  })

/** Remove staging left by killed runs (only `prefix`'s, when given); other entries are left alone. */
export const cleanStaleStaging = async (tmpDir: string, log: LogFn, prefix?: string): Promise<void> => {
  for (const n of staleStaging(await readdir(tmpDir))) {
    if (prefix !== undefined && !n.startsWith(`${prefix}.`)) continue
    log('info', `Removing staging left by an interrupted run: ${join(tmpDir, n)}`)
    await removeTree(join(tmpDir, n))
  }
}
