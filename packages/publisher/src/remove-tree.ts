import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'

/**
 * Remove the folder `dir` and everything in it with `rm -rf`: a child
 * process, so the removal costs this process no memory however many names
 * the tree holds. A missing folder is fine. Never rejects: when `rm` is
 * missing or fails, Node's recursive `rm` tries.
 */
export const removeTree = async (dir: string): Promise<void> => {
  const ok = await new Promise<boolean>((resolve) => {
    execFile('rm', ['-rf', '--', dir], (er) => resolve(er === null))
  })
  if (!ok) await rm(dir, { recursive: true, force: true }).catch(() => {})
}
