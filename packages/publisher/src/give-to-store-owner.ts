import { execFile } from 'node:child_process'
import { lstat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { XsError } from '@xs-rsync/core'

const run = promisify(execFile)

/**
 * The stick job runs as root (it mounts), but the store belongs to the
 * service user: the rsync daemon reads it as that user (`uid =` in the rsync
 * config) and later unprivileged jobs replace what this one wrote. So what a
 * root job writes into a store owned by someone else is handed to that owner
 * (`chown -R --no-dereference`; user xattrs stay; nothing on disk is setuid).
 * `onlyRootOwned` limits it to what root owns (a sweep of the whole store).
 * Does nothing when not root or when root owns the store.
 */
export const giveToStoreOwner = async (root: string, paths: string[], onlyRootOwned = false): Promise<void> => {
  if (process.geteuid?.() !== 0 || paths.length === 0) return
  const owner = await lstat(root)
  if (owner.uid === 0) return
  const args = ['-R', '--no-dereference', ...(onlyRootOwned ? ['--from=0'] : []), `${owner.uid}:${owner.gid}`, '--', ...paths]
  try {
    await run('chown', args, { maxBuffer: 1024 * 1024 })
  } catch (er) {
    const msg = (er as { stderr?: string }).stderr?.trim() || (er as Error).message
    throw new XsError('E_IO', `cannot give ${paths.join(', ')} to the store owner (uid ${owner.uid}): ${msg}`, { path: paths[0] ?? root, cause: er })
  }
}
