import { readdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The version tree (NAME@ID, a folder directly in `treesDir`) a path of
 * /proc points into, or undefined. Pure. " (deleted)" marks a path that is
 * gone, which holds nothing of ours any more.
 */
export const treeOfPath = (treesDir: string, path: string): string | undefined => {
  const prefix = treesDir.endsWith('/') ? treesDir : `${treesDir}/`
  if (!path.startsWith(prefix) || path.endsWith(' (deleted)')) return undefined
  const tree = path.slice(prefix.length).split('/')[0]
  return tree === undefined || tree === '' ? undefined : tree
}

/**
 * Version trees a process is using now: its root (a daemon chrooted into the
 * tree for a laptop), its working folder or an open file inside the tree.
 * Read from /proc; processes we may not look at are skipped (a job run as
 * root sees every one; the service user sees its own, the daemon's). Tree
 * name -> a pid using it.
 */
export const treesInUse = async (treesDir: string): Promise<Map<string, number>> => {
  const used = new Map<string, number>()
  const note = (pid: number, path: string | undefined): void => {
    const tree = path === undefined ? undefined : treeOfPath(treesDir, path)
    if (tree !== undefined && !used.has(tree)) used.set(tree, pid)
  }
  const link = (p: string): Promise<string | undefined> => readlink(p).catch(() => undefined)
  for (const d of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(d)) continue
    const pid = Number(d)
    if (pid === process.pid) continue
    note(pid, await link(join('/proc', d, 'root')))
    note(pid, await link(join('/proc', d, 'cwd')))
    const fds = await readdir(join('/proc', d, 'fd')).catch(() => [] as string[])
    for (const fd of fds) note(pid, await link(join('/proc', d, 'fd', fd)))
  }
  return used
}
