import { rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fsPath } from './entry-path.js'
import type { ServedEntry } from './inode-meta.js'
import type { TreeNode } from './tree-writer.js'

const PRISTINE = 'versions/pristine/'

/**
 * The tree to serve: the first (byte order) directory directly under
 * versions/pristine/, or undefined to serve the whole tree minus versions/. Pure.
 */
export const choosePristine = (nodes: ReadonlyMap<string, TreeNode>): string | undefined => {
  const dirs = [...nodes].filter(([p, n]) => n.kind === 'dir' && p.startsWith(PRISTINE) && !p.slice(PRISTINE.length).includes('/'))
  return dirs.map(([p]) => p).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0]
}

/** The names of the served tree, relative to its root ('' = the root itself). Pure. */
export const servedEntries = (nodes: ReadonlyMap<string, TreeNode>, pristine: string | undefined): ServedEntry[] => {
  const out: ServedEntry[] = []
  for (const [p, n] of nodes) {
    if (pristine === undefined) {
      if (p !== 'versions' && !p.startsWith('versions/')) out.push({ path: p, meta: n.meta })
    } else if (p === pristine) {
      out.push({ path: '', meta: n.meta })
    } else if (p.startsWith(pristine + '/')) {
      out.push({ path: p.slice(pristine.length + 1), meta: n.meta })
    }
  }
  return out
}

/** Move the served tree from `tree` to `root` (same filesystem) and remove the rest. */
export const commitServedTree = async (tree: string, root: string, pristine: string | undefined): Promise<void> => {
  if (pristine === undefined) {
    await rm(join(tree, 'versions'), { recursive: true, force: true })
    await rename(tree, root)
    return
  }
  await rename(fsPath(tree, pristine), root)
  await rm(tree, { recursive: true, force: true })
}
