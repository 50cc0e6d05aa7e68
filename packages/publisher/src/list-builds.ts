import { lstat, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { XsConfig } from '@xs-rsync/core'
import { readBuildRecords, type BuildRecord } from './build-record.js'
import { publishLayout, treeLinkTarget } from './publish-layout.js'

/** Is NAME served from the tree its record names (symlink in place, tree there)? */
export const isServed = async (buildsDir: string, treesDir: string, rec: BuildRecord): Promise<boolean> => {
  try {
    if (await readlink(join(buildsDir, rec.name)) !== treeLinkTarget(rec.tree)) return false
    return (await lstat(join(treesDir, rec.tree, 'root'))).isDirectory()
  } catch (er) {
    const code = (er as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENOTDIR') return false
    throw er
  }
}

/** The published builds (records whose version tree is really served), sorted by name. No lock needed. */
export const listBuilds = async (config: XsConfig): Promise<BuildRecord[]> => {
  const layout = publishLayout(config.root)
  const recs = await readBuildRecords(layout.records)
  const served = await Promise.all(recs.map((r) => isServed(layout.builds, layout.trees, r)))
  return recs.filter((_, i) => served[i])
}
