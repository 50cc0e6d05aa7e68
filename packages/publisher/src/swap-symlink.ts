import { randomBytes } from 'node:crypto'
import { rename, symlink, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fsyncDir } from '@xs-rsync/core'

/**
 * Point `link` at `target` atomically: a new symlink under a temp name, then
 * rename() over the old one. Readers see the old or the new target, never none.
 */
export const swapSymlink = async (target: string, link: string): Promise<void> => {
  const dir = dirname(link)
  const tmp = join(dir, `.${basename(link)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  await symlink(target, tmp)
  try {
    await rename(tmp, link)
  } catch (er) {
    await unlink(tmp).catch(() => {})
    throw er
  }
  await fsyncDir(dir)
}
